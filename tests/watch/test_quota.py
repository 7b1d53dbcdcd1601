"""Codat's daily quota pauses the watch until the reset, and /status and /metrics say so: when a
pass meets a 429 with the quota used up, and when Codat sends `client.rateLimit.reached`."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.watch.helpers import (
    applied,
    applied_in_process,
    connection_event,
    running_watch,
    served_codat,
)

pytestmark = pytest.mark.slow


def test_a_used_up_quota_pauses_everything_until_the_reset(tmp_path: Path) -> None:
    # Applied in process (no quota there), then served with a quota of 2 requests a day.
    desired = applied_in_process(tmp_path)
    with (
        served_codat(tmp_path, "--daily-quota", "2") as codat,
        running_watch(codat, str(desired), "--resync", "1h") as watch,
    ):
        watch.wait_for("the quota pause", lambda s: s["quota"]["paused"], timeout=20)
        status = watch.status()
        until = datetime.fromisoformat(status["quota"]["until"])
        assert datetime.now(UTC) < until <= datetime.now(UTC) + timedelta(days=1)
        watch.said("quota is used up")
        mark = len(codat.requests())
        assert watch.deliver(connection_event("some-company")).status_code == 200
        time.sleep(1.0)
        assert codat.requests()[mark:] == []  # paused: not even a read
        assert "reconcile_watch_quota_paused 1.0" in watch.get("/metrics").text
        assert watch.stop() == 143


def test_codat_s_rate_limit_events_pause_and_resume(tmp_path: Path) -> None:
    with served_codat(tmp_path) as codat:
        desired = applied(codat, tmp_path)
        with running_watch(codat, str(desired), "--resync", "1h") as watch:
            watch.wait_for("the first full pass", watch.passes_after(0))
            expiry = (datetime.now(UTC) + timedelta(hours=3)).replace(microsecond=0)
            reached = {
                "id": "e1",
                "eventType": "client.rateLimit.reached",
                "generatedDate": datetime.now(UTC).isoformat(),
                "payload": {
                    "dailyQuota": 1000,
                    "quotaRemaining": 0,
                    "expiryDate": expiry.isoformat().replace("+00:00", "Z"),
                },
            }
            assert watch.deliver(reached).json()["outcome"] == "accepted"
            quota = watch.status()["quota"]
            assert quota["paused"] and datetime.fromisoformat(quota["until"]) == expiry

            passes = watch.status()["passes"]
            company = codat.company_id("w-1")
            mark = len(codat.requests())
            watch.deliver(connection_event(company))
            time.sleep(1.0)
            assert watch.status()["passes"] == passes and codat.requests()[mark:] == []

            reset = {"id": "e2", "eventType": "client.rateLimit.reset", "payload": {}}
            assert watch.deliver(reset).json()["outcome"] == "accepted"
            watch.wait_for("the full pass after the reset", watch.passes_after(passes))
            assert not watch.status()["quota"]["paused"]
