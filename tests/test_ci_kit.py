"""The CI kit in examples/ci/: linted (actionlint, GitLab's schema), and the `reconcile` command
lines of each workflow read out of the YAML and run, in order, against the served sandbox."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import TEST_API_KEY
from tests.saved_support import EXAMPLE, customers_file, read_plan, unique_owner

ROOT = Path(__file__).resolve().parents[1]
CI = ROOT / "examples" / "ci"
GITHUB = (CI / "plan.yml", CI / "apply.yml")
GITLAB = CI / ".gitlab-ci.yml"
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def tool(name: str) -> str:
    """A console script of the test extras, from this interpreter's environment first."""
    here = Path(sys.executable).parent / name
    found = str(here) if here.exists() else shutil.which(name)
    assert found, f"{name} is not installed: pip install -e '.[test]'"
    return found


# ---------------------------------------------------------------------- linters


def test_actionlint_passes_on_the_workflows() -> None:
    result = subprocess.run(
        [tool("actionlint"), "-no-color", *map(str, GITHUB)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_catches_a_broken_workflow(tmp_path: Path) -> None:
    """The control: the linter really reads these files (an untrusted input in a script)."""
    broken = tmp_path / "plan.yml"
    broken.write_text(
        GITHUB[0]
        .read_text()
        .replace('reconcile validate "$CUSTOMERS"', "echo ${{ github.event.pull_request.title }}")
    )
    result = subprocess.run(
        [tool("actionlint"), "-no-color", str(broken)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 1, result.stdout
    assert "github.event.pull_request.title" in result.stdout


@pytest.mark.parametrize("broken", [False, True])
def test_gitlab_file_validates_against_gitlabs_schema(tmp_path: Path, broken: bool) -> None:
    """check-jsonschema ships GitLab's schema (vendored in the package): no network needed."""
    target = GITLAB
    if broken:
        target = tmp_path / ".gitlab-ci.yml"
        target.write_text(GITLAB.read_text().replace("when: always", "when: sometimes"))
    result = subprocess.run(
        [tool("check-jsonschema"), "--builtin-schema", "vendor.gitlab-ci", str(target)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == (1 if broken else 0), result.stdout + result.stderr


def test_pre_commit_hook_runs_reconcile_validate(tmp_path: Path) -> None:
    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "reconcile-validate" and hook["language"] == "python"
    assert re.search(hook["files"], "customers/emea.yaml")
    assert not re.search(hook["files"], "src/app.py")
    entry = hook["entry"].split()
    assert entry[:2] == ["reconcile", "validate"]
    bad = tmp_path / "customers.yaml"
    bad.write_text("version: 1\nowner: o\ncustomers:\n  - uid: a\n    nmae: x\n")
    command = [sys.executable, "-m", "reconcile", *entry[1:]]
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
    steps: list[tuple[dict[str, str], list[str]]], cwd: Path, url: str
) -> list[subprocess.CompletedProcess[str]]:
    results = []
    for env, lines in steps:
        for line in lines:
            assert "${{" not in line, f"an expression inside a command line: {line}"
            full = {k: v for k, v in os.environ.items() if not k.startswith("CODAT_")}
            full.update(resolve(env))
            full.update(
                CODAT_BASE_URL=url,
                CODAT_API_KEY=TEST_API_KEY,
                NO_COLOR="1",
                PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
            )
            result = subprocess.run(
                ["bash", "-c", line],
                cwd=cwd,
                env=full,
                capture_output=True,
                text=True,
                timeout=180,
            )
            assert result.returncode == 0, f"{line}\n{result.stdout}\n{result.stderr}"
            results.append(result)
    return results


def resolve(env: Mapping[str, str]) -> dict[str, str]:
    """Workflow env values: secrets become the test key; any other expression is refused."""
    out: dict[str, str] = {}
    for key, value in env.items():
        for expression in EXPRESSION.findall(value):
            assert expression.startswith("secrets."), f"{key}: unexpected ${{{{ {expression} }}}}"
        out[key] = EXPRESSION.sub(TEST_API_KEY, value)
    return out


def customers_dir(tmp_path: Path, env: Mapping[str, str]) -> str:
    owner = unique_owner("ci")
    target = tmp_path / env["CUSTOMERS"]
    target.mkdir(parents=True)
    customers_file(target, owner)
    return owner


def converged(tmp_path: Path, url: str, customers: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CODAT_")}
    env.update(CODAT_BASE_URL=url, CODAT_API_KEY=TEST_API_KEY, NO_COLOR="1")
    again = subprocess.run(
        [sys.executable, "-m", "reconcile", "plan", customers, "--detailed-exitcode"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert again.returncode == 0, again.stdout + again.stderr


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
    customers_dir(tmp_path, plan_env)

    run_lines(plan_steps, tmp_path, sandbox_url)
    saved = read_plan(tmp_path / plan_env["PLAN_FILE"])
    assert saved["summary"]["create"] == 12
    comment = (tmp_path / "comment.md").read_text()
    assert "<details>" in comment and len(comment) <= 65_000

    # What the download step does: the artifact lands where apply reads it.
    reviewed = tmp_path / apply_env["PLAN_FILE"]
    reviewed.parent.mkdir(parents=True)
    shutil.copy(tmp_path / plan_env["PLAN_FILE"], reviewed)
    (applied,) = run_lines(apply_steps, tmp_path, sandbox_url)
    assert "Apply complete" in applied.stdout
    converged(tmp_path, sandbox_url, plan_env["CUSTOMERS"])


@pytest.mark.slow
def test_gitlab_commands_plan_then_apply_on_the_sandbox(tmp_path: Path, sandbox_url: str) -> None:
    plan_steps = gitlab_steps(GITLAB, "reconcile-plan")
    apply_steps = gitlab_steps(GITLAB, "reconcile-apply")
    _expect(plan_steps, "validate", "plan")
    _expect(apply_steps, "apply")
    env = plan_steps[0][0]
    customers_dir(tmp_path, env)

    run_lines(plan_steps, tmp_path, sandbox_url)
    assert "<details>" in (tmp_path / "plan.md").read_text()
    reviewed = tmp_path / env["REVIEWED_PLAN"]
    reviewed.parent.mkdir(parents=True)
    shutil.copy(tmp_path / env["PLAN_FILE"], reviewed)
    (applied,) = run_lines(apply_steps, tmp_path, sandbox_url)
    assert "Apply complete" in applied.stdout
    converged(tmp_path, sandbox_url, env["CUSTOMERS"])


def test_every_job_that_applies_is_serialised_per_owner() -> None:
    apply_doc: dict[str, Any] = yaml.safe_load(GITHUB[1].read_text())
    assert apply_doc["concurrency"]["cancel-in-progress"] is False
    assert apply_doc["concurrency"]["group"].startswith("reconcile-apply-")
    gitlab: dict[str, Any] = yaml.safe_load(GITLAB.read_text())
    assert gitlab["reconcile-apply"]["resource_group"].startswith("reconcile-apply-")
