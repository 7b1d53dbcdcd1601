"""The refresh period in the pure assessment: a refresh otherwise due is held while a needed data
type's sync is in progress, or when Codat's pull history holds one requested within the period
(the value either side), or when that history could not be read; the plan's text says when."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from reconcile.health import HealthOptions, assess, refresh_due, refresh_held
from reconcile.health.model import DataTypeStatus
from tests.health.test_assess import NOW, company, facts

AUTO = HealthOptions(refresh_data=True)
AT_RISK = timedelta(days=40)


def test_no_history_read_yet_queues_the_refresh() -> None:
    health = assess("u-1", company(), facts(AT_RISK), NOW, AUTO)
    assert health.refresh_queued and health.refresh_held is None
    assert "last refreshed" not in refresh_due([health])["c-1"]


def test_a_refresh_within_the_period_holds_the_next() -> None:
    within = replace(facts(AT_RISK), last_refresh=NOW - timedelta(hours=23, minutes=59))
    held = assess("u-1", company(), within, NOW, AUTO)
    assert not held.refresh_queued and held.who[0] == "converge"
    assert held.refresh_held == (
        "refreshed at 2026-12-05 12:01 UTC, next allowed at 2026-12-06 12:01 UTC"
    )
    assert refresh_due([held]) == {} and refresh_held([held]) == {"c-1": held.refresh_held}
    assert "no refresh now: refreshed at" in held.reasons[0].detail

    after = replace(facts(AT_RISK), last_refresh=NOW - timedelta(days=1))
    again = assess("u-1", company(), after, NOW, AUTO)
    assert again.refresh_queued and again.refresh_held is None
    # a new period's refresh is a write of its own (its idempotency key follows this text)
    assert "last refreshed at 2026-12-05 12:00 UTC" in refresh_due([again])["c-1"]

    weekly = assess("u-1", company(), after, NOW, replace(AUTO, refresh_every=timedelta(days=7)))
    assert not weekly.refresh_queued and "2026-12-12" in (weekly.refresh_held or "")


def test_a_sync_in_progress_or_an_unread_history_holds_it() -> None:
    queued = facts(AT_RISK, suppliers=DataTypeStatus("suppliers", "Queued", NOW - AT_RISK))
    busy = assess("u-1", company(), queued, NOW, AUTO)
    assert (
        not busy.refresh_queued and busy.refresh_held == "a sync is in progress (suppliers Queued)"
    )
    unread = replace(facts(AT_RISK), history_read=True, history_error="Codat answered 500")
    held = assess("u-1", company(), unread, NOW, AUTO)
    assert not held.refresh_queued and "could not be read (Codat answered 500)" in (
        held.refresh_held or ""
    )


def test_without_the_policy_nothing_is_held() -> None:
    within = replace(facts(AT_RISK), last_refresh=NOW - timedelta(hours=1))
    health = assess("u-1", company(), within, NOW)
    assert health.refresh_held is None and not health.refresh_queued
