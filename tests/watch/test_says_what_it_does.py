"""The watch says what it does (issue 24): a refused delivery is logged once per interval with
its likely cause, /status and /metrics show the last accepted and refused delivery, SIGHUP and
an authenticated POST /resync start a full pass, a connection event about an error reaches
/status at once."""

from __future__ import annotations

import signal
from datetime import UTC, datetime
from pathlib import Path

import httpx

from reconcile.watch.deliveries import Deliveries, likely_cause
from reconcile.watch.metrics import Metrics
from reconcile.watch.status import WatchStatus
from reconcile.watch.throttle import Throttle
from tests.support.virtual_time import SetClock
from tests.watch.helpers import (
    applied,
    connection_event,
    new_secret,
    running_watch,
    served_codat,
    write_file,
)

TOKEN = "resync-token-" + "x" * 24


def test_a_refused_delivery_is_logged_once_per_interval() -> None:
    lines: list[str] = []
    clock = SetClock(1000.0)
    status = WatchStatus("o", ())
    deliveries = Deliveries(status, Metrics(), lines.append, Throttle(60.0, clock))
    deliveries.refused("No matching signature found")
    for _ in range(5):
        clock.now += 10
        deliveries.refused("No matching signature found")
    assert len(lines) == 1 and "a webhook delivery was refused" in lines[0]
    assert "likely cause: a wrong secret" in lines[0]
    clock.now += 15  # 65 s after the first line: the next refusal says how many
    deliveries.refused("Message timestamp too old")
    assert len(lines) == 2
    assert "6 webhook deliveries were refused" in lines[1] and "clock" in lines[1]
    assert status.last_refused_reason == "Message timestamp too old"


def test_likely_causes() -> None:
    assert "wrong secret" in likely_cause("No matching signature found")
    assert "clock" in likely_cause("Message timestamp too new")
    assert "not Codat" in likely_cause("unsigned: no webhook-id, webhook-timestamp and ...")


def test_refusals_and_acceptances_on_status_and_metrics(tmp_path: Path) -> None:
    with served_codat(tmp_path) as codat:
        desired = applied(codat, tmp_path)
        with running_watch(codat, str(desired), "--resync", "1h") as watch:
            watch.wait_for("the first pass", watch.passes_after(0))
            event = connection_event(codat.company_id("w-1"))
            for _ in range(3):
                assert watch.deliver(event, secret=new_secret()).status_code == 401
            assert "likely cause: a wrong secret" in watch.said("refused")
            deliveries = watch.status()["deliveries"]
            assert deliveries["last_refused"] and deliveries["last_accepted"] is None
            assert deliveries["last_refused_reason"] == "No matching signature found"

            assert watch.deliver(event).status_code == 200
            assert watch.status()["deliveries"]["last_accepted"]
            metrics = watch.get("/metrics").text
            for outcome in ("accepted", "refused"):
                assert (
                    "reconcile_watch_webhook_last_delivery_timestamp_seconds"
                    f'{{outcome="{outcome}"}}'
                ) in metrics
            assert watch.stop() == 143
            refused = [line for line in watch.lines if "refused" in line]
            assert len(refused) == 1, refused  # once per interval, not once per delivery


def test_sighup_and_post_resync_start_a_full_pass(tmp_path: Path) -> None:
    with served_codat(tmp_path) as codat:
        desired = write_file(tmp_path / "customers.yaml")
        env = {"RECONCILE_WATCH_TOKEN": TOKEN}
        with running_watch(codat, str(desired), "--resync", "1h", env=env) as watch:
            watch.wait_for("the first pass", watch.passes_after(0))
            resync = watch.status_url + "/resync"
            passes = watch.status()["passes"]
            assert httpx.post(resync, timeout=10).status_code == 401
            wrong = {"Authorization": "Bearer " + "y" * 37}
            assert httpx.post(resync, headers=wrong, timeout=10).status_code == 401
            assert watch.status()["passes"] == passes  # the control: nothing started

            right = {"Authorization": f"Bearer {TOKEN}"}
            answer = httpx.post(resync, headers=right, timeout=10)
            assert answer.status_code == 202, answer.text
            watch.wait_for("the resync's full pass", watch.passes_after(passes))
            watch.said("POST /resync: starting a full pass")

            passes = watch.status()["passes"]
            watch.process.send_signal(signal.SIGHUP)
            watch.wait_for("SIGHUP's full pass", watch.passes_after(passes))
            assert "SIGHUP" in watch.said("running a full pass")
            assert watch.stop() == 143


def test_post_resync_is_not_offered_without_a_token(tmp_path: Path) -> None:
    with served_codat(tmp_path) as codat:
        desired = write_file(tmp_path / "customers.yaml")
        with running_watch(codat, str(desired), "--resync", "1h") as watch:
            answer = httpx.post(
                watch.status_url + "/resync", headers={"Authorization": "Bearer x"}, timeout=10
            )
            assert answer.status_code == 403 and "RECONCILE_WATCH_TOKEN" in answer.text
            assert watch.stop() == 143


def test_a_connection_error_event_reaches_status_at_once(tmp_path: Path) -> None:
    # A slow Codat: the company's pass is still reading when /status is asked.
    with served_codat(tmp_path, "--latency-ms", "400") as codat:
        desired = applied(codat, tmp_path)
        with running_watch(codat, str(desired), "--resync", "1h") as watch:
            watch.wait_for("the first pass", watch.passes_after(0), timeout=60)
            company_id = codat.company_id("w-1")
            event = connection_event(company_id, "connection.failed")
            event["payload"]["connection"]["dataConnectionErrors"] = [
                {
                    "errorMessage": "token revoked at the platform",
                    "status": "Active",
                    "erroredOnUtc": datetime.now(UTC).isoformat(),
                }
            ]
            assert watch.deliver(event).status_code == 200
            reported = watch.status()["reported_connection_errors"]
            assert reported == [
                {
                    "uid": "w-1",
                    "event": "connection.failed",
                    "error": "connection error: token revoked at the platform",
                    "at": reported[0]["at"],
                }
            ]
            assert company_id not in str(watch.status())
            watch.said("w-1: Codat sent connection.failed reporting connection error")
            assert watch.stop() == 143
