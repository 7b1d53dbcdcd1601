"""`converge --notify` as a CI job runs it: each run tells what changed since the last (its state
kept in --state-dir), an entry that left the file reaches the team, and an offboarded customer
reaches the partner's app."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.notify.support import PARTNER_SECRET_ENV, notify_file, partner_channel, partner_env
from tests.notify.support import verified as check
from tests.sandbox.webhook_receiver import Receiver, receiver
from tests.support.cli import reconcile
from tests.watch.helpers import served_codat

pytestmark = pytest.mark.slow
TWO = """\
version: 1
owner: ci-notify
customers:
  - {uid: a, name: Alpha, accounting: xero, expenses: true}
  - {uid: b, name: Beta, accounting: xero, expenses: true}
"""


def told(app: Receiver, secret: str) -> list[tuple[str, str]]:
    return [(e["type"], e["data"]["uid"]) for e in (check(d, secret) for d in app.deliveries)]


def test_each_ci_run_tells_what_changed_since_the_last(tmp_path: Path) -> None:
    env = partner_env()
    secret = env[PARTNER_SECRET_ENV]
    with served_codat(tmp_path) as codat, receiver() as app, receiver() as chat:
        desired = tmp_path / "customers.yaml"
        desired.write_text(TWO, encoding="utf-8")
        assert reconcile("apply", str(desired), "--auto-approve", env=codat.env()).returncode == 0
        authorized = reconcile("sandbox", "authorize", "--db", str(codat.db), "--uid", "a")
        assert authorized.returncode == 0, authorized.stderr
        notify = notify_file(
            tmp_path / "notify.yaml",
            partner_channel(app.url),
            f"{{kind: webhook, name: team, url: '{chat.url}'}}",
        )
        ci = ("--notify", str(notify), "--state-dir", str(tmp_path / "state"))

        def converge() -> Any:
            done = reconcile("converge", str(desired), *ci, env={**codat.env(), **env})
            assert done.returncode in (0, 2), done.stderr
            assert "Traceback" not in done.stderr
            return done

        first = converge()
        assert "Notifications: 2 sent" in first.stderr
        assert sorted(told(app, secret)) == [
            ("customer.authorization_needed", "b"),
            ("customer.onboarded", "a"),  # its partner expense connection made by this run
        ]
        converge()  # nothing changed: nothing told
        assert len(app.deliveries) == 2 and chat.deliveries == []

        desired.write_text(TWO.replace("  - {uid: a, name: Alpha", "  # - {uid: a"), "utf-8")
        converge()
        (digest,) = [d.envelope for d in chat.deliveries]
        assert [(i["kind"], i["uid"]) for i in digest["items"]] == [("left_file", "a")]
        assert "state: absent" in digest["items"][0]["text"]  # the planner says what to do
        assert len(app.deliveries) == 2  # the app hears when it is offboarded, not before

        desired.write_text(
            TWO.replace("expenses: true}\n  - {uid: b", "state: absent}\n  - {uid: b")
        )
        applied = reconcile("apply", str(desired), "--auto-approve", env=codat.env())
        assert applied.returncode == 0, applied.stderr
        converge()
        assert told(app, secret)[2:] == [("customer.offboarded", "a")]
        assert len(chat.deliveries) == 1


def test_the_nightly_audit_tells_without_writing(tmp_path: Path) -> None:
    env = partner_env()
    secret = env[PARTNER_SECRET_ENV]
    with served_codat(tmp_path) as codat, receiver() as app:
        desired = tmp_path / "customers.yaml"
        desired.write_text(TWO, encoding="utf-8")
        assert reconcile("apply", str(desired), "--auto-approve", env=codat.env()).returncode == 0
        assert (
            reconcile("sandbox", "authorize", "--db", str(codat.db), "--uid", "a").returncode == 0
        )
        notify = notify_file(tmp_path / "notify.yaml", partner_channel(app.url))
        ci = ("--notify", str(notify), "--state-dir", str(tmp_path / "state"))
        mark = len(codat.requests())
        for _ in range(2):  # the second run: nothing new to tell
            done = reconcile("audit", str(desired), *ci, env={**codat.env(), **env})
            assert done.returncode == 2, done.stderr  # a follows up: drift
        # b must authorize; a is authorized but not onboarded (its follow-ups are not made)
        assert told(app, secret) == [("customer.authorization_needed", "b")]
        assert {r["method"] for r in codat.requests()[mark:]} == {"GET"}
