"""The converge kit in examples/ci/: its shape (trusted code only, the key in one job; .ci/run
lints it), and its `reconcile` command lines run against the served sandbox: they converge, they
tell the partner's app (through the deployment's notifications file), a second run with the
state the kit's cache keeps tells nothing again, and a cold start (the cache lost) tells every
customer's state again, as docs/gitops.md says."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.ci.ci_exposure import KIT, load_file
from tests.ci.kit_runs import GitHubJob, run_step, told, write_notify_file
from tests.ci.test_ci_kit import github_steps, gitlab_steps
from tests.conftest import AUTH_HEADERS
from tests.plans.file.saved_support import customers_file, uid, unique_owner
from tests.sandbox.webhook_receiver import receiver
from tests.support.cli import reconcile_argv
from tests.watch.helpers import new_secret

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


def _expense_connections(url: str, owner: str, customer: str) -> int:
    with httpx.Client(base_url=url, headers=AUTH_HEADERS, timeout=30) as http:
        answer = http.get("/companies", params={"tags": f"reconcile.uid={customer}"})
        [company] = answer.json()["results"]
        return sum(1 for c in company["dataConnections"] if c["sourceType"] == "Expense")


@pytest.mark.parametrize("kit", ["github", "gitlab"])
def test_the_kits_reconcile_lines_converge_the_sandbox_and_notify(
    kit: str, tmp_path: Path, sandbox_url: str, sandbox_db: Path
) -> None:
    """Each run on a fresh runner, its state carried by the kit's cache (GitHub: the job's
    steps, the state sealed; GitLab: the job's line and its cache's path), then a cold start."""
    secret = new_secret()
    # The deployment's secrets, as the CI environment's secrets hand them to the job.
    jobs = GitHubJob(tmp_path, sandbox_url, {"PARTNER_WEBHOOK_SECRET": secret})
    if kit == "github":
        [(env, [line])] = github_steps(GITHUB)
        notify_file = env["NOTIFY"]
    else:
        [(_, [line])] = gitlab_steps(GITLAB, "reconcile-converge")
        job = load_file(GITLAB)["reconcile-converge"]
        env = {k: str(v) for k, v in job["variables"].items()}
        notify_file = line.split("--notify ", 1)[1].split()[0]
        [kept] = [tmp_path / p for p in job["cache"]["paths"]]
    assert line.startswith("reconcile converge") and "--notify" in line
    owner = unique_owner("converge")
    (tmp_path / env["CUSTOMERS"]).mkdir(parents=True)
    customers_file(tmp_path / env["CUSTOMERS"], owner)
    applying = f"reconcile apply {env['CUSTOMERS']} --auto-approve"
    apply = run_step(applying, env, tmp_path, sandbox_url)
    assert apply.returncode == 0, apply.stdout + apply.stderr
    first = uid(owner, "0001")
    authorize = reconcile_argv("sandbox", "authorize")
    subprocess.run([*authorize, "--db", str(sandbox_db), "--uid", first], check=True, timeout=60)
    assert _expense_connections(sandbox_url, owner, first) == 0

    with receiver() as app:
        write_notify_file(tmp_path / notify_file, app)

        def converge() -> str:
            if kit == "github":  # the converge step keeps the exit code itself
                jobs.run("converge.yml")
                return (tmp_path / "converge.txt").read_text()
            shutil.rmtree(kept, ignore_errors=True)  # a fresh runner: the cache restored
            if jobs.cache.exists():
                shutil.copytree(jobs.cache, kept)
            result = run_step(line, env, tmp_path, sandbox_url, jobs.secrets)
            assert result.returncode in (0, 2), result.stderr  # GitLab's job allows exit 2
            shutil.rmtree(jobs.cache, ignore_errors=True)  # the cache saved
            shutil.copytree(kept, jobs.cache)
            return result.stdout

        text = converge()
        assert _expense_connections(sandbox_url, owner, first) == 1
        assert "created partner expense connection" in text and "http" not in text
        first_run = told(app, secret)
        assert ("customer.onboarded", first) in first_run
        waiting = [u for kind, u in first_run if kind == "customer.authorization_needed"]
        assert waiting and first not in waiting
        cached = b"".join(f.read_bytes() for f in jobs.cache.rglob("*") if f.is_file())
        # GitHub's cache holds the state sealed (a pull request's workflow can restore it).
        assert (waiting[0].encode() in cached) is (kit == "gitlab")

        converge()  # the next run, its state restored: nothing changed, nothing told
        assert len(app.deliveries) == len(first_run)

        shutil.rmtree(jobs.cache)  # the cache lost: a cold start tells every state again
        converge()
        assert told(app, secret, since=len(first_run)) == first_run
