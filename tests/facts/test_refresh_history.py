"""The pull-history side of `refresh_data`: the newest `requested` of a page (whatever the
order Codat answers in; malformed entries left out), and the quota budget of the refreshes due
(a history read and a refresh each): those beyond it wait for the next pass, with a warning."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from reconcile.facts.health import parse_last_refresh, refreshes_beyond_budget
from reconcile.health import HealthOptions, assess
from reconcile.health.model import Health, HealthState
from tests.health.test_assess import NOW, company, facts

AUTO = HealthOptions(refresh_data=True)


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
    assert refreshes_beyond_budget(14, 4, healths, warnings) == {"c-c"}
    assert warnings == [
        "refresh_data: the daily quota left (14) covers 2 of 3 refreshes due; the rest wait for"
        " the next pass"
    ]
    assert refreshes_beyond_budget(1000, 990, healths, []) == frozenset()  # control
    assert refreshes_beyond_budget(None, None, healths, []) == frozenset()  # Codat did not say


def test_a_refresh_the_quota_cannot_cover_is_held_with_why() -> None:
    held = assess("u-1", company(), replace(facts(timedelta(days=40)), quota_held=True), NOW, AUTO)
    assert not held.refresh_queued and held.who[0] == "converge"
    assert "quota" in (held.refresh_held or "") and "quota" in held.reasons[0].detail
