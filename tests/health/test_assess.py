"""The pure health assessment: each reason, its threshold (with the value either side), and who
must act."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from reconcile.health import NEEDED_DATA_TYPES, HealthOptions, HealthState, ReasonKind, assess
from reconcile.health.model import DataTypeStatus, HealthFacts, MissingReference
from reconcile.model import Company, Connection, ConnectionError_

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def company(*, error: bool = False) -> Company:
    errors = (ConnectionError_("401", "Unauthorized", "token expired", None, status="Active"),)
    connection = Connection(
        "conn-1", "Accounting", "Xero", "Linked", "", "2026-01-01T00:00:00Z", "gbol",
        errors=errors if error else (),
    )  # fmt: skip
    return Company("c-1", "Acme", None, {}, (connection,))


def facts(age: timedelta, **changes: DataTypeStatus) -> HealthFacts:
    data = {t: DataTypeStatus(t, "Complete", NOW - age) for t in NEEDED_DATA_TYPES}
    data.update(changes)
    return HealthFacts("c-1", data=tuple(data.values()))


def test_fresh_data_is_healthy() -> None:
    health = assess("u-1", company(), facts(timedelta(hours=3)), NOW)
    assert health.state == HealthState.HEALTHY and health.reasons == ()
    assert health.deauthorized_on == (NOW - timedelta(hours=3) + timedelta(days=90)).date()


def test_at_risk_after_the_threshold_and_who_acts() -> None:
    just_under = assess("u-1", company(), facts(timedelta(days=30)), NOW)
    assert just_under.state == HealthState.DEGRADED  # stale, not yet at risk
    over = assess("u-1", company(), facts(timedelta(days=30, seconds=1)), NOW)
    assert over.state == HealthState.AT_RISK
    assert over.reasons[0].kind == ReasonKind.NO_RECENT_SYNC and over.who[0] == "person"
    auto = assess(
        "u-1", company(), facts(timedelta(days=31)), NOW, HealthOptions(refresh_data=True)
    )
    assert auto.refresh_queued and auto.who[0] == "converge"


def test_stale_respects_the_schedule() -> None:
    day = assess("u-1", company(), facts(timedelta(hours=47)), NOW)
    assert day.state == HealthState.HEALTHY
    late = assess("u-1", company(), facts(timedelta(hours=49)), NOW)
    assert [r.kind for r in late.reasons] == [ReasonKind.STALE]
    weekly = {t: 168 for t in NEEDED_DATA_TYPES}
    relaxed = assess(
        "u-1", company(), facts(timedelta(hours=49)), NOW, HealthOptions(schedules=weekly)
    )
    assert relaxed.state == HealthState.HEALTHY


def test_never_fetched_failing_connection_error_and_missing_reference() -> None:
    read = facts(
        timedelta(hours=1),
        taxRates=DataTypeStatus("taxRates", "Initial", None),
        suppliers=DataTypeStatus("suppliers", "FetchError", NOW - timedelta(hours=1)),
    )
    read = HealthFacts("c-1", data=read.data, missing=(MissingReference("supplier", "124"),))
    health = assess("u-1", company(error=True), read, NOW)
    assert health.state == HealthState.DEGRADED
    kinds = {r.kind: r for r in health.reasons}
    assert kinds[ReasonKind.NEVER_FETCHED].data_types == ("taxRates",)
    assert kinds[ReasonKind.FAILING].data_types == ("suppliers",)
    assert kinds[ReasonKind.CONNECTION_ERROR].who == "customer"
    assert kinds[ReasonKind.MISSING_REFERENCE].who == "review"
    assert health.who == ("person", "customer", "review")


def test_not_linked_is_not_read_and_healthy() -> None:
    assert assess("u-1", company(), HealthFacts("c-1"), NOW).state == HealthState.HEALTHY
