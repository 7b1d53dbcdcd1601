"""The pull-history side of `refresh_data`: the newest `requested` of a page (whatever the
order Codat answers in; malformed entries left out), and the quota budget of the refreshes due
(a history read and a refresh each): those beyond it wait for the next pass, with a warning."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from types import SimpleNamespace

from reconcile.facts.health import parse_last_refresh, refreshes_within_budget
from reconcile.health.model import Health, HealthState


def test_the_newest_pull_operation_wins() -> None:
    page = {
        "results": [
            {"requested": "2026-12-01T10:00:00Z"},
            {"requested": "2026-12-05T09:30:00.1234567Z"},
            {"requested": "not a time"},
            "junk",
            {"dataType": "suppliers"},
        ]
    }
    assert parse_last_refresh(page) == datetime(2026, 12, 5, 9, 30, 0, 123456, tzinfo=UTC)
    assert parse_last_refresh({"results": []}) is None
    assert parse_last_refresh(None) is None


def _due(uid: str) -> Health:
    return Health(uid, uid, f"c-{uid}", HealthState.AT_RISK, refresh_queued=True)


def test_refreshes_beyond_the_quota_wait_for_the_next_pass() -> None:
    healths = [_due("a"), _due("b"), _due("c"), Health("d", "d", "c-d", HealthState.HEALTHY)]
    warnings: list[str] = []
    client = SimpleNamespace(rate_limit_remaining=14)
    kept = asyncio.run(refreshes_within_budget(client, healths, 10, warnings))  # type: ignore[arg-type]
    assert [h.refresh_queued for h in kept] == [True, True, False, False]
    assert kept[2].refresh_held == "the day's quota is spent: it waits for the next pass"
    assert warnings == [
        "refresh_data: the daily quota left (14) covers 2 of 3 refreshes due; the rest wait for"
        " the next pass"
    ]
    plenty = SimpleNamespace(rate_limit_remaining=1000)
    unchanged = asyncio.run(refreshes_within_budget(plenty, healths, 10, []))  # type: ignore[arg-type]
    assert unchanged == healths  # control
