"""The converge kit in examples/ci/: its shape (trusted code only, the key in one job; .ci/run
lints it), and its `reconcile` command lines run against the served sandbox."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.ci.ci_exposure import KIT, load_file
from tests.ci.test_ci_kit import github_steps, gitlab_steps, resolve
from tests.conftest import AUTH_HEADERS, TEST_API_KEY
from tests.plans.file.saved_support import customers_file, uid, unique_owner
from tests.support.cli import reconcile_argv

GITHUB = KIT / "converge.yml"
GITLAB = KIT / "converge.gitlab-ci.yml"


def test_github_workflow_is_hourly_trusted_and_holds_the_key_in_one_job() -> None:
    doc = load_file(GITHUB)
    triggers = doc.get("on", doc.get(True))  # YAML 1.1 reads a bare `on` as true
    assert set(triggers) == {"schedule", "workflow_dispatch"}  # never pull-request code
    minute, hour, *_ = triggers["schedule"][0]["cron"].split()
    assert minute.isdigit() and hour == "*"
    assert doc["permissions"] == {}  # nothing by default: the job asks for what it uses
    [job] = doc["jobs"].values()
    assert job["permissions"] == {"contents": "read"}
    assert "default_branch" in job["if"]
    with_key = [s for s in job["steps"] if "CODAT_API_KEY" in s.get("env", {})]
    assert len(with_key) == 1 and "reconcile converge" in with_key[0]["run"]
    assert "--link-urls" not in GITHUB.read_text().replace("Link URLs", "")
    assert doc["concurrency"]["cancel-in-progress"] is False


def test_gitlab_job_runs_on_schedule_on_the_default_branch_only() -> None:
    job = load_file(GITLAB)["reconcile-converge"]
    default_branch = '$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH && $CI_COMMIT_REF_PROTECTED == "true"'
    assert all(rule["if"].startswith(default_branch) for rule in job["rules"])
    assert any(rule["if"].endswith('$CI_PIPELINE_SOURCE == "schedule"') for rule in job["rules"])
    assert not any("merge_request" in str(rule) for rule in job["rules"])
    assert job["allow_failure"] == {"exit_codes": [2]}


def _run(line: str, env: dict[str, str], cwd: Path, url: str) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("CODAT_")}
    full.update(resolve(env))
    full.update(
        CODAT_BASE_URL=url,
        CODAT_API_KEY=TEST_API_KEY,
        NO_COLOR="1",
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    )
    return subprocess.run(
        ["bash", "-c", line], cwd=cwd, env=full, capture_output=True, text=True, timeout=180
    )


def _expense_connections(url: str, owner: str, customer: str) -> int:
    with httpx.Client(base_url=url, headers=AUTH_HEADERS, timeout=30) as http:
        answer = http.get("/companies", params={"tags": f"reconcile.uid={customer}"})
        [company] = answer.json()["results"]
        return sum(1 for c in company["dataConnections"] if c["sourceType"] == "Expense")


@pytest.mark.parametrize("kit", ["github", "gitlab"])
def test_the_kits_reconcile_lines_converge_the_sandbox(
    kit: str, tmp_path: Path, sandbox_url: str, sandbox_db: Path
) -> None:
    if kit == "github":
        [(env, [line])] = github_steps(GITHUB)
    else:
        [(_, [line])] = gitlab_steps(GITLAB, "reconcile-converge")
        job_variables = load_file(GITLAB)["reconcile-converge"]["variables"]
        env = {k: str(v) for k, v in job_variables.items()}
    assert line.startswith("reconcile converge")
    owner = unique_owner("converge")
    (tmp_path / env["CUSTOMERS"]).mkdir(parents=True)
    customers_file(tmp_path / env["CUSTOMERS"], owner)
    apply = _run(f"reconcile apply {env['CUSTOMERS']} --auto-approve", env, tmp_path, sandbox_url)
    assert apply.returncode == 0, apply.stdout + apply.stderr
    first = uid(owner, "0001")
    authorize = reconcile_argv("sandbox", "authorize")
    subprocess.run([*authorize, "--db", str(sandbox_db), "--uid", first], check=True, timeout=60)
    assert _expense_connections(sandbox_url, owner, first) == 0

    result = _run(line, env, tmp_path, sandbox_url)
    # GitHub's line keeps the exit code itself; GitLab's job allows exit 2 (a warning).
    assert result.returncode in ((0,) if kit == "github" else (0, 2)), result.stderr
    assert _expense_connections(sandbox_url, owner, first) == 1
    text = (tmp_path / "converge.txt").read_text() if kit == "github" else result.stdout
    assert "created partner expense connection" in text and "http" not in text
