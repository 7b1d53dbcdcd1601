"""The CI kit in examples/ci/ (.ci/run lints it: actionlint, GitHub's and GitLab's schemas):
no job that runs pull-request code sees a secret (every workflow file there, whoever adds it);
actions pinned by SHA and reconcile by version; the `reconcile` command lines of each workflow
read out of the YAML and run, in order, against the served sandbox; the github-script steps run
under Node against a fake GitHub (tests/ci/github_script.py)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.ci import ci_exposure
from tests.ci.github_script import called, run_script, step_script
from tests.ci.kit_runs import run_step
from tests.conftest import TEST_API_KEY
from tests.plans.file.saved_support import (
    EXAMPLE,
    customers_file,
    read_plan,
    unique_owner,
)
from tests.support.cli import reconcile_argv

ROOT = Path(__file__).resolve().parents[2]
CI = ROOT / "examples" / "ci"
GITHUB = (CI / "plan.yml", CI / "apply.yml")
GITLAB = CI / ".gitlab-ci.yml"
EVERY_FILE = sorted({*CI.glob("*.yml"), *CI.glob("*.yaml"), *CI.glob(".*.yml")})
SHA_PIN = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")


def test_pre_commit_hook_runs_reconcile_validate(tmp_path: Path) -> None:
    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "reconcile-validate" and hook["language"] == "python"
    assert re.search(hook["files"], "customers/emea.yaml")
    assert not re.search(hook["files"], "src/app.py")
    entry = hook["entry"].split()
    assert entry[:2] == ["reconcile", "validate"]
    bad = tmp_path / "customers.yaml"
    bad.write_text("version: 1\nowner: o\ncustomers:\n  - uid: a\n    nmae: x\n")
    command = reconcile_argv(*entry[1:])
    good = subprocess.run([*command, str(EXAMPLE)], capture_output=True, text=True, timeout=60)
    assert good.returncode == 0, good.stderr
    failed = subprocess.run([*command, str(bad)], capture_output=True, text=True, timeout=60)
    assert failed.returncode == 1 and "customers.yaml:5:5" in failed.stderr


# ---------------------------------------------------------------------- the command lines


def logical_lines(script: str) -> list[str]:
    return script.replace("\\\n", " ").splitlines()


def reconcile_lines(script: str) -> list[str]:
    return [line.strip() for line in logical_lines(script) if line.strip().startswith("reconcile ")]


def github_steps(path: Path) -> list[tuple[dict[str, str], list[str]]]:
    """(env, reconcile command lines) of each step that runs reconcile, in order."""
    doc = yaml.safe_load(path.read_text())
    steps: list[tuple[dict[str, str], list[str]]] = []
    for job in doc["jobs"].values():
        for step in job["steps"]:
            lines = reconcile_lines(step.get("run", ""))
            if lines:
                env = {**doc.get("env", {}), **job.get("env", {}), **step.get("env", {})}
                steps.append(({k: str(v) for k, v in env.items()}, lines))
    return steps


def gitlab_steps(path: Path, job: str) -> list[tuple[dict[str, str], list[str]]]:
    doc = yaml.safe_load(path.read_text())
    env = {k: str(v) for k, v in doc.get("variables", {}).items()}
    script = "\n".join(doc[job]["script"])
    return [(env, reconcile_lines(script))]


def run_lines(
    steps: list[tuple[dict[str, str], list[str]]],
    cwd: Path,
    url: str,
    extra: Mapping[str, str] | None = None,
    expect: int = 0,
) -> list[subprocess.CompletedProcess[str]]:
    results = []
    for env, lines in steps:
        for line in lines:
            assert "${{" not in line, f"an expression inside a command line: {line}"
            result = run_step(line, env, cwd, url, dict(extra or {}))
            assert result.returncode == expect, f"{line}\n{result.stdout}\n{result.stderr}"
            results.append(result)
    return results


def customers_dir(tmp_path: Path, where: str, text: str | None = None) -> str:
    owner = unique_owner("ci")
    target = tmp_path / where
    target.mkdir(parents=True)
    customers_file(target, owner, text)
    return owner


def merge(tmp_path: Path, source: str, target: str) -> None:
    """What the merge does to the files: the pull request's customers land on the branch."""
    shutil.copytree(tmp_path / source, tmp_path / target, dirs_exist_ok=True)


def converged(tmp_path: Path, url: str, customers: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CODAT_")}
    env.update(CODAT_BASE_URL=url, CODAT_API_KEY=TEST_API_KEY, NO_COLOR="1")
    again = subprocess.run(
        reconcile_argv("plan", customers, "--detailed-exitcode"),
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert again.returncode == 0, again.stdout + again.stderr


def apply_reviewed(
    tmp_path: Path,
    url: str,
    apply_steps: list[tuple[dict[str, str], list[str]]],
    reviewed: tuple[str, str],
    customers: str,
) -> None:
    """What the download step does (the plan's artifact, `reviewed[0]`, lands where apply reads
    it, `reviewed[1]`), then the apply job's one line: it applies, and Codat has converged."""
    target = tmp_path / reviewed[1]
    target.parent.mkdir(parents=True)
    shutil.copy(tmp_path / reviewed[0], target)
    (applied,) = run_lines(apply_steps, tmp_path, url)
    assert "Apply complete" in applied.stdout
    converged(tmp_path, url, customers)


def _expect(steps: list[tuple[dict[str, str], list[str]]], *commands: str) -> None:
    found = [line.split()[1] for _, lines in steps for line in lines]
    assert found == list(commands), found


@pytest.mark.slow
def test_github_workflow_commands_plan_then_apply_on_the_sandbox(
    tmp_path: Path, sandbox_url: str
) -> None:
    plan_steps, apply_steps = github_steps(GITHUB[0]), github_steps(GITHUB[1])
    _expect(plan_steps, "validate", "plan")
    _expect(apply_steps, "apply")
    plan_env, apply_env = plan_steps[-1][0], apply_steps[0][0]
    customers_dir(tmp_path, plan_env["CUSTOMERS"])  # base/customers/ absent: a first PR

    run_lines(plan_steps, tmp_path, sandbox_url)
    saved = read_plan(tmp_path / plan_env["PLAN_FILE"])
    assert saved["summary"]["create"] == 12
    comment = (tmp_path / "comment.md").read_text()
    assert "<details>" in comment and len(comment) <= 65_000
    assert "**Allowances in effect: none.**" in comment
    merge(tmp_path, plan_env["CUSTOMERS"], apply_env["CUSTOMERS"])

    reviewed = (plan_env["PLAN_FILE"], apply_env["PLAN_FILE"])
    apply_reviewed(tmp_path, sandbox_url, apply_steps, reviewed, plan_env["CUSTOMERS"])


@pytest.mark.slow
@pytest.mark.parametrize("workflow", ["github", "gitlab"])
def test_the_allowance_reaches_the_plan_and_its_comment(
    tmp_path: Path, sandbox_url: str, workflow: str
) -> None:
    """The label (GitHub) or the Maintainer's pipeline variable (GitLab) becomes
    --allow-delete --max-destroy N on the plan line, and the comment says so."""
    if workflow == "github":
        steps, flag, comment = github_steps(GITHUB[0]), "ALLOW_DESTROY", "comment.md"
    else:
        steps, flag, comment = (
            gitlab_steps(GITLAB, "reconcile-plan"),
            "RECONCILE_ALLOW_DESTROY",
            "plan.md",
        )
    env = steps[-1][0]
    customers_dir(tmp_path, env.get("MR_CUSTOMERS", env["CUSTOMERS"]))
    run_lines(steps, tmp_path, sandbox_url, extra={flag: "yes"})
    text = (tmp_path / comment).read_text()
    limit = env["ALLOW_MAX_DESTROY"]
    assert "- \\-\\-allow\\-delete: companies marked" in text
    assert f"- \\-\\-max\\-destroy {limit}: up to {limit} unlinks and deletes" in text


@pytest.mark.slow
def test_gitlab_commands_plan_then_apply_on_the_sandbox(tmp_path: Path, sandbox_url: str) -> None:
    plan_steps = gitlab_steps(GITLAB, "reconcile-plan")
    apply_steps = gitlab_steps(GITLAB, "reconcile-apply")
    _expect(plan_steps, "validate", "plan")
    _expect(apply_steps, "apply")
    env = plan_steps[0][0]
    customers_dir(tmp_path, env["MR_CUSTOMERS"])

    run_lines(plan_steps, tmp_path, sandbox_url)
    assert "<details>" in (tmp_path / "plan.md").read_text()
    merge(tmp_path, env["MR_CUSTOMERS"], env["CUSTOMERS"])
    reviewed = (env["PLAN_FILE"], env["REVIEWED_PLAN"])
    apply_reviewed(tmp_path, sandbox_url, apply_steps, reviewed, env["CUSTOMERS"])


def test_every_job_that_applies_is_serialised_per_owner() -> None:
    apply_doc: dict[str, Any] = yaml.safe_load(GITHUB[1].read_text())
    assert apply_doc["concurrency"]["cancel-in-progress"] is False
    assert apply_doc["concurrency"]["group"].startswith("reconcile-apply-")
    gitlab: dict[str, Any] = yaml.safe_load(GITLAB.read_text())
    assert gitlab["reconcile-apply"]["resource_group"].startswith("reconcile-apply-")


# ---------------------------------------------------------------------- who can see the key


@pytest.mark.parametrize("path", EVERY_FILE, ids=lambda p: p.name)
def test_no_job_that_runs_pull_request_code_sees_a_secret(path: Path) -> None:
    doc = ci_exposure.load(path.read_text())
    found = (
        ci_exposure.github_exposures(doc) if "jobs" in doc else ci_exposure.gitlab_exposures(doc)
    )
    assert found == []


def test_the_kit_is_all_there() -> None:
    names = {p.name for p in EVERY_FILE}
    assert {"plan.yml", "apply.yml", ".gitlab-ci.yml"} <= names


_PLAN = GITHUB[0].read_text()
_GITLAB = GITLAB.read_text()
_PR_CHECKOUT = (
    "path: pr\n          sparse-checkout: customers/\n          sparse-checkout-cone-mode: false\n"
    "          persist-credentials: false\n"
)


@pytest.mark.parametrize(
    ("text", "mutation"),
    [
        (_PLAN, ("pull_request_target:", "pull_request:")),
        (_PLAN, (_PR_CHECKOUT, _PR_CHECKOUT.replace("persist-credentials: false", ""))),
        (_PLAN, (_PR_CHECKOUT, _PR_CHECKOUT.replace("sparse-checkout-cone-mode: false", ""))),
        (_PLAN, ("          path: pr\n", "")),
        (_PLAN, ('reconcile validate "$CUSTOMERS"', 'python -m pip install -e "$CUSTOMERS"')),
        (_PLAN, ('reconcile validate "$CUSTOMERS"', "make -C pr")),
        (_PLAN, ('reconcile validate "$CUSTOMERS"', "bash pr/customers/x.sh")),
        (
            _PLAN,
            ("      - name: Validate\n", "      - uses: ./pr/action\n      - name: Validate\n"),
        ),
        (
            _GITLAB,
            (
                "if: $CI_COMMIT_BRANCH ==",
                'if: $CI_PIPELINE_SOURCE == "merge_request_event" || $CI_COMMIT_BRANCH ==',
            ),
        ),
        (
            _GITLAB,
            (
                'reconcile validate "$CUSTOMERS"',
                'reconcile validate "$CUSTOMERS" --token "$CODAT_API_KEY"',
            ),
        ),
    ],
    ids=[
        "github-pull_request",
        "github-credentials-kept",
        "github-cone-checkout",
        "github-into-workspace",
        "github-pip-after-checkout",
        "github-make",
        "github-script-from-pr",
        "github-local-action",
        "gitlab-plan-on-mr",
        "gitlab-key-in-mr-job",
    ],
)
def test_the_exposure_check_catches_each_way_in(text: str, mutation: tuple[str, str]) -> None:
    """The controls: each way pull-request code could reach the key is reported."""
    old, new = mutation
    assert old in text, old
    doc = ci_exposure.load(text.replace(old, new, 1))
    found = (
        ci_exposure.github_exposures(doc) if "jobs" in doc else ci_exposure.gitlab_exposures(doc)
    )
    assert found, mutation


@pytest.mark.parametrize("path", [*GITHUB], ids=lambda p: p.name)
def test_actions_are_pinned_by_sha_and_reconcile_by_version_and_hash(path: Path) -> None:
    doc = ci_exposure.load(path.read_text())
    assert doc["permissions"] == {}  # each job asks for what it needs
    assert re.fullmatch(r"\d+\.\d+\.\d+", doc["env"]["RECONCILE_VERSION"])
    pinned = (CI / "reconcile-requirements.in").read_text()
    assert f"codat-reconcile=={doc['env']['RECONCILE_VERSION']}\n" in pinned
    for job in doc["jobs"].values():
        steps = job["steps"]
        for step in steps:
            if "uses" in step:
                assert SHA_PIN.match(step["uses"]), step["uses"]
        installs = [i for i, s in enumerate(steps) if "pip install" in s.get("run", "")]
        checkouts = [i for i, s in enumerate(steps) if "checkout@" in s.get("uses", "")]
        for i in installs:
            script = steps[i]["run"]
            assert "-P -m pip install" in script and '--require-hashes -r "$REQUIREMENTS"' in script
            pr_checkouts = [c for c in checkouts if "pull_request.head" in str(steps[c]["with"])]
            assert not pr_checkouts or i < min(pr_checkouts), "installed after the PR's checkout"
        for i in checkouts:
            assert steps[i]["with"]["persist-credentials"] is False


def test_plan_runs_the_default_branchs_code_and_the_key_needs_environments() -> None:
    plan, apply = (ci_exposure.load(p.read_text()) for p in GITHUB)
    assert ci_exposure.events(plan) == {"pull_request_target"}
    assert plan["jobs"]["plan"]["environment"] == "codat-plan"
    assert "head.repo.full_name == github.repository" in plan["jobs"]["plan"]["if"]
    assert ci_exposure.events(apply) == {"push"}  # no hand-started apply of any run
    assert apply["jobs"]["apply"]["environment"] == "codat-production"
    assert not ci_exposure.sees_secret(apply["jobs"]["find"])
    gitlab = ci_exposure.load(GITLAB.read_text())
    assert gitlab["reconcile-apply"]["environment"]["name"] == "codat-production"
    for job in ("reconcile-plan", "reconcile-apply"):
        assert all("CI_COMMIT_REF_PROTECTED" in r["if"] for r in gitlab[job]["rules"])
        assert not ci_exposure.runs_merge_request_code(gitlab[job])
    assert ci_exposure.runs_merge_request_code(gitlab["reconcile-validate"])


# ---------------------------------------------------------------------- the github-script steps

REPO = "acme/customers"
MARKER = "<!-- codat-reconcile plan -->"


def _run(run_id: int, pr: int | None, **changes: Any) -> dict[str, Any]:
    return {
        "id": run_id,
        "event": "pull_request_target",
        "conclusion": "success",
        "path": ".github/workflows/plan.yml",
        "head_branch": "main",
        "repository": {"full_name": REPO},
        "head_repository": {"full_name": REPO},
        "pull_requests": [] if pr is None else [{"number": pr}],
        "run_started_at": f"2026-12-01T00:00:{run_id:02d}Z",
        "html_url": f"https://github.example/runs/{run_id}",
        **changes,
    }


def _artifact(name: str, expired: bool = False) -> dict[str, Any]:
    return {"name": name, "expired": expired, "expires_at": "2026-12-08T00:00:00Z"}


def _find(
    tmp_path: Path, runs: list[dict[str, Any]], artifacts: dict[str, Any], merged: bool = True
) -> dict[str, Any]:
    pr = {
        "number": 7,
        "merged_at": "2026-12-02T00:00:00Z" if merged else None,
        "merge_commit_sha": "m" * 40,
        "created_at": "2026-11-30T00:00:00Z",
        "head": {"sha": "h" * 40},
        "base": {"repo": {"full_name": REPO}},
    }
    fixture = {
        "context": {
            "sha": "m" * 40,
            "repo": {"owner": "acme", "repo": "customers"},
            "payload": {"repository": {"default_branch": "main"}},
            "eventName": "push",
        },
        "prs": [pr],
        "runs": runs,
        "artifacts": artifacts,
    }
    script = step_script(GITHUB[1], "find", "Find the reviewed plan of the merged pull request")
    return run_script(tmp_path, script, fixture, {"PLAN_WORKFLOW": "plan.yml"})


OURS = f"reconcile-plan-pr-7-{'h' * 40}"
THEIRS = f"reconcile-plan-pr-8-{'h' * 40}"  # a second pull request from the same commit


def test_apply_takes_the_plan_run_of_the_merged_pull_request(tmp_path: Path) -> None:
    out = _find(
        tmp_path,
        [_run(1, 7), _run(2, 8), _run(3, None)],
        {"1": [_artifact(OURS)], "2": [_artifact(THEIRS)], "3": [_artifact(THEIRS)]},
    )
    assert out["failed"] is None
    assert out["outputs"] == {"run_id": "1", "artifact": OURS}


@pytest.mark.parametrize(
    "impostor",
    [
        _run(2, 8),  # another pull request's run, even with our artifact name
        _run(2, 7, event="pull_request"),  # the pull request's own workflow copy
        _run(2, 7, path=".github/workflows/evil.yml"),
        _run(2, 7, head_branch="feature"),  # not the default branch's workflow
        _run(2, 7, head_repository={"full_name": "mallory/customers"}),
        _run(2, 7, conclusion="failure"),
    ],
    ids=["other-pr", "pull_request-event", "other-workflow", "other-branch", "fork", "failed"],
)
def test_apply_refuses_any_other_plan_run(tmp_path: Path, impostor: dict[str, Any]) -> None:
    out = _find(tmp_path, [impostor], {"2": [_artifact(OURS)]})
    assert "outputs" in out and out["outputs"] == {}
    assert out["failed"].startswith(f"No successful plan of #7 at {'h' * 40}")
    assert "Next: re-run the last plan run of #7" in out["failed"]


def test_apply_refuses_a_run_without_the_pull_requests_artifact(tmp_path: Path) -> None:
    out = _find(tmp_path, [_run(2, None)], {"2": [_artifact(THEIRS)]})
    assert out["outputs"] == {} and "No successful plan of #7" in out["failed"]


def test_an_expired_plan_ends_apply_with_the_next_step(tmp_path: Path) -> None:
    out = _find(tmp_path, [_run(1, 7)], {"1": [_artifact(OURS, expired=True)]})
    assert out["outputs"] == {}
    assert "expired on 2026-12-08T00:00:00Z: nothing was applied" in out["failed"]
    assert "Next: re-run that plan run (Re-run all jobs)" in out["failed"]


def test_a_push_that_merged_no_pull_request_applies_nothing(tmp_path: Path) -> None:
    out = _find(tmp_path, [_run(1, 7)], {"1": [_artifact(OURS)]}, merged=False)
    assert out["outputs"] == {} and "not the merge of a reviewed pull request" in out["failed"]
    assert called(out, "listWorkflowRuns") == []


def _link_check(workflow: str) -> str:
    if workflow == "github":
        doc = yaml.safe_load(GITHUB[0].read_text())
        (step,) = [
            s for s in doc["jobs"]["plan"]["steps"] if s.get("name", "").startswith("Refuse")
        ]
        script: str = step["run"]
        return script
    lines = yaml.safe_load(GITLAB.read_text())["reconcile-plan"]["script"]
    (line,) = [item for item in lines if "! -type f ! -type d" in item]
    return str(line)


@pytest.mark.parametrize("workflow", ["github", "gitlab"])
def test_links_among_the_pull_requests_files_are_refused(tmp_path: Path, workflow: str) -> None:
    """A symlink to /proc/self/environ would be read "as YAML" into an error message."""
    data = tmp_path / ("pr" if workflow == "github" else "mr") / "customers"
    data.mkdir(parents=True)
    (data / "customers.yaml").write_text("version: 1\n")
    (tmp_path / "base" / ".git").mkdir(parents=True)  # the base checkout, customers/ or not
    (tmp_path / "base" / ".git" / "HEAD").symlink_to("/dev/null")  # .git is not data
    command = ["bash", "-eo", "pipefail", "-c", _link_check(workflow)]  # as runners run it
    run = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    (data / "env.yaml").symlink_to("/proc/self/environ")
    run = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True)
    assert run.returncode == 1 and "plain files" in run.stderr
