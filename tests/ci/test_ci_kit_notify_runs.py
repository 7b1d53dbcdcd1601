"""The GitHub kit's audit and converge jobs, run as CI runs them (fresh runners, the state carried
by the cache, sealed) against the served sandbox: they tell the partner's app through the
deployment's notifications file, and, sharing one state, never tell one change twice. The
controls: an audit with no state of its own tells everything again (the cold start that
docs/gitops.md describes), and so does a run whose RECONCILE_STATE_KEY changed. The GitLab
twins share their state the same way (their lines, run with the job's cache path)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.ci.ci_exposure import KIT, load_file
from tests.ci.ci_notify import notifying_lines
from tests.ci.kit_runs import deployed, run_step, told
from tests.plans.file.saved_support import uid
from tests.support.cli import reconcile_argv

pytestmark = pytest.mark.slow


def test_audit_and_converge_share_one_state_and_tell_each_change_once(
    tmp_path: Path, sandbox_url: str, sandbox_db: Path
) -> None:
    converge, audit = (load_file(KIT / n)["env"] for n in ("converge.yml", "audit.yml"))
    assert all(audit[k] == converge[k] for k in ("CUSTOMERS", "NOTIFY"))
    with deployed(tmp_path, sandbox_url, "kit-notify") as it:
        it.jobs.run("converge.yml")
        first_run = told(it.app, it.secret)
        assert first_run and {kind for kind, _ in first_run} == {"customer.authorization_needed"}
        it.jobs.run("audit.yml")  # the state converge left: nothing new to tell
        assert len(it.app.deliveries) == len(first_run)

        first = uid(it.owner, "0001")
        authorize = reconcile_argv("sandbox", "authorize")
        subprocess.run([*authorize, "--db", str(sandbox_db), "--uid", first], check=True)
        it.jobs.run("audit.yml")  # the audit sees it first: authorized, not yet set up
        assert len(it.app.deliveries) == len(first_run)  # in progress: nothing for the app yet
        it.jobs.run("converge.yml")  # sets it up, and tells it once
        assert told(it.app, it.secret, since=len(first_run)) == [("customer.onboarded", first)]
        it.jobs.run("audit.yml")
        assert len(it.app.deliveries) == len(first_run) + 1

        # The control: an audit whose state is lost tells every state again.
        shutil.rmtree(it.jobs.cache)
        it.jobs.run("audit.yml")
        again = told(it.app, it.secret, since=len(first_run) + 1)
        waiting = [(k, u) for k, u in first_run if u != first]
        assert again == sorted([*waiting, ("customer.onboarded", first)])


def test_a_changed_state_key_starts_cold_and_says_so(tmp_path: Path, sandbox_url: str) -> None:
    """docs/gitops.md, "A cold start": a state sealed under another RECONCILE_STATE_KEY cannot be
    opened; the job warns and tells every state again (it does not fail)."""
    with deployed(tmp_path, sandbox_url, "kit-state-key") as it:
        it.jobs.run("converge.yml")
        first_run = told(it.app, it.secret)
        it.jobs.run("converge.yml")  # the control: the same key opens it, nothing told again
        assert len(it.app.deliveries) == len(first_run)
        it.jobs.secrets["RECONCILE_STATE_KEY"] = "another passphrase"
        it.jobs.run("converge.yml", unopened=True)
        assert told(it.app, it.secret, since=len(first_run)) == first_run
        it.jobs.run("converge.yml")  # sealed under the new key now: opened, nothing told
        assert len(it.app.deliveries) == 2 * len(first_run)


def test_the_gitlab_jobs_share_one_state_too(tmp_path: Path, sandbox_url: str) -> None:
    """GitLab: converge's line, then the audit's, with the one cache path both jobs keep: the
    audit tells nothing converge told. The control: the audit with that path emptied tells it
    all again."""
    runs = []
    for name, job_name in (("converge", "reconcile-converge"), ("audit", "codat-audit")):
        job = load_file(KIT / f"{name}.gitlab-ci.yml")[job_name]
        [line] = notifying_lines("\n".join(job["script"]))
        runs.append((line, {k: str(v) for k, v in job["variables"].items()}, job["cache"]))
    (converge, _, cache), (audit, audit_env, audit_cache) = runs
    assert cache == audit_cache
    [kept] = [tmp_path / path for path in cache["paths"]]
    with deployed(tmp_path, sandbox_url, "kit-gitlab") as it:
        assert f"--notify {load_file(KIT / 'converge.yml')['env']['NOTIFY']} " in converge

        def job(line: str, env: dict[str, str]) -> None:
            ran = run_step(line, env, tmp_path, sandbox_url, {**it.jobs.secrets, "since": ""})
            assert ran.returncode in (0, 2), ran.stdout + ran.stderr  # exit 2: a warning

        job(converge, runs[0][1])
        first_run = told(it.app, it.secret)
        assert first_run and (kept / "notifications.sqlite").is_file()
        job(audit, audit_env)
        assert len(it.app.deliveries) == len(first_run)
        shutil.rmtree(kept)
        job(audit, audit_env)
        assert told(it.app, it.secret, since=len(first_run)) == first_run
