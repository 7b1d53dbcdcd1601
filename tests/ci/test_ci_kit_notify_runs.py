"""The GitHub kit's audit and converge jobs, run as CI runs them (fresh runners, the state carried
by the cache, sealed) against the served sandbox: they tell the partner's app through the
deployment's notifications file, and, sharing one state, never tell one change twice. The
control: an audit with no state of its own tells everything again (the cold start that
docs/gitops.md describes)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.ci.ci_exposure import KIT, load_file
from tests.ci.kit_runs import GitHubJob, run_step
from tests.notify.support import verified
from tests.plans.file.saved_support import customers_file, uid, unique_owner
from tests.sandbox.webhook_receiver import Receiver, receiver
from tests.support.cli import reconcile_argv
from tests.watch.helpers import new_secret

pytestmark = pytest.mark.slow


def _told(app: Receiver, secret: str, since: int = 0) -> list[tuple[str, str]]:
    events = [verified(d, secret) for d in app.deliveries[since:]]
    return sorted((e["type"], e["data"]["uid"]) for e in events)


def test_audit_and_converge_share_one_state_and_tell_each_change_once(
    tmp_path: Path, sandbox_url: str, sandbox_db: Path
) -> None:
    env = {k: str(v) for k, v in load_file(KIT / "converge.yml")["env"].items()}
    assert env == {
        **env,
        **{k: str(v) for k, v in load_file(KIT / "audit.yml")["env"].items() if k in env},
    }  # one CUSTOMERS, one NOTIFY
    owner = unique_owner("kit-notify")
    (tmp_path / env["CUSTOMERS"]).mkdir(parents=True)
    customers_file(tmp_path / env["CUSTOMERS"], owner)
    applying = f"reconcile apply {env['CUSTOMERS']} --auto-approve"
    applied = run_step(applying, env, tmp_path, sandbox_url)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    secret = new_secret()
    with receiver() as app:
        (tmp_path / env["NOTIFY"]).write_text(
            "channels:\n  - {kind: partner_webhook, name: app, "
            f"url: '{app.url}', secret_env: PARTNER_WEBHOOK_SECRET}}\n"
        )
        jobs = GitHubJob(tmp_path, sandbox_url, {"PARTNER_WEBHOOK_SECRET": secret})

        jobs.run("converge.yml")
        told = _told(app, secret)
        assert told and {kind for kind, _ in told} == {"customer.authorization_needed"}
        jobs.run("audit.yml")  # the state converge left: nothing new to tell
        assert len(app.deliveries) == len(told)

        first = uid(owner, "0001")
        authorize = reconcile_argv("sandbox", "authorize")
        subprocess.run([*authorize, "--db", str(sandbox_db), "--uid", first], check=True)
        jobs.run("audit.yml")  # the audit sees it first: authorized, not yet set up
        assert len(app.deliveries) == len(told)  # in progress: nothing for the app yet
        jobs.run("converge.yml")  # sets it up, and tells it once
        assert _told(app, secret, since=len(told)) == [("customer.onboarded", first)]
        jobs.run("audit.yml")
        assert len(app.deliveries) == len(told) + 1

        # The control: an audit whose state is lost tells every state again.
        shutil.rmtree(jobs.cache)
        jobs.run("audit.yml")
        again = _told(app, secret, since=len(told) + 1)
        waiting = [(k, u) for k, u in told if u != first]
        assert again == sorted([*waiting, ("customer.onboarded", first)])
