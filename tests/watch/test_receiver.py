"""Webhook deliveries through a real `reconcile watch` and a served sandbox: only a delivery
signed with our secret, recent and new, makes the watch converge that one company."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.support.cli import reconcile
from tests.watch.helpers import (
    connection_event,
    new_secret,
    running_watch,
    served_codat,
    write_file,
)

pytestmark = pytest.mark.slow


def test_only_signed_new_deliveries_converge_one_company(tmp_path: Path) -> None:
    with served_codat(tmp_path) as codat:
        desired = write_file(tmp_path / "customers.yaml")
        applied = reconcile("apply", str(desired), "--auto-approve", env=codat.env())
        assert applied.returncode == 0, applied.stderr
        with running_watch(codat, str(desired), "--resync", "1h") as watch:
            watch.wait_for("the first full pass", watch.passes_after(0))
            passes = watch.status()["passes"]
            assert (
                reconcile("sandbox", "authorize", "--db", str(codat.db), "--uid", "w-1").returncode
                == 0
            )
            company = codat.company_id("w-1")
            event = connection_event(company)
            mark = len(codat.requests())

            stale = datetime.now(UTC) - timedelta(minutes=10)
            refused = [
                watch.deliver(event, signed=False),
                watch.deliver(event, secret=new_secret()),  # forged: another secret
                watch.deliver(event, timestamp=stale),  # expired
                watch.deliver(event, names="svix", secret=new_secret()),
            ]
            assert [r.status_code for r in refused] == [401, 401, 401, 401]
            assert watch.status()["passes"] == passes
            assert codat.requests()[mark:] == []  # not even a read

            too_large = watch.deliver({"eventType": "connection.connected", "pad": "x" * 300_000})
            assert too_large.status_code == 413 and codat.requests()[mark:] == []

            started = time.monotonic()
            accepted = watch.deliver(event, message_id="msg_1")
            assert time.monotonic() - started < 1.0  # answered at once; the work is queued
            assert accepted.status_code == 200 and accepted.json()["outcome"] == "accepted"
            watch.wait_for("the company's pass", watch.passes_after(passes))
            writes = codat.writes_since(mark)
            assert sorted(w["path"].rsplit("/", 1)[-1] for w in writes) == [
                "config",
                "partnerExpense",
            ], writes
            assert all(company in w["path"] for w in writes)
            connections = codat.company("w-1")["dataConnections"]
            assert sum(c["sourceType"] == "Expense" for c in connections) == 1

            mark = len(codat.requests())
            passes = watch.status()["passes"]
            replay = watch.deliver(event, message_id="msg_1")
            assert replay.status_code == 200 and replay.json()["outcome"] == "duplicate"
            svix = watch.deliver(connection_event(company), names="svix")
            assert svix.status_code == 200 and svix.json()["outcome"] == "accepted"
            watch.wait_for("the svix-named delivery's pass", watch.passes_after(passes))
            assert watch.status()["passes"] == passes + 1  # the replay ran nothing
            assert codat.writes_since(mark) == []  # converged: nothing more to write
