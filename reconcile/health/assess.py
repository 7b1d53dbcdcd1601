"""The one place a customer's health is computed: pure, from the company, what a health read
found, Codat's clock and the account's sync schedules.

- At risk: no needed data type has synced successfully for `at_risk_after` (default 30 days,
  Codat's advice to refresh at least monthly; it deauthorizes a connection after 90 days without
  a sync). The report says the day it will be deauthorized. A person must act, unless
  `policy.auto` lists `refresh_data`: then converge and the watch queue a refresh, at most once
  per `refresh_every` (`policy.refreshDataEvery`, default a day). Codat remembers the period for
  every runner: a refresh is held while a needed data type's sync is in progress, or when the
  company's pull history (read only for a refresh otherwise due) holds one requested within it.
- Degraded: a needed data type never fetched (the account's sync settings: a person), failing
  (a person), or older than its schedule allows (`schedule x stale_factor` hours: a person);
  an Active connection error (the customer re-authorizes); a config whose bank
  account, supplier or customer no longer exists (the file must change: a review).
- Healthy otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final

from reconcile.health.model import (
    DataTypeStatus,
    Health,
    HealthFacts,
    HealthState,
    Reason,
    ReasonKind,
)
from reconcile.model import DEFAULT_REFRESH_DATA_EVERY, Company
from reconcile.model.who import Who

# Sync for Expenses needs these fetched on first link and daily (Codat's getting-started guide).
NEEDED_DATA_TYPES: Final = (
    "chartOfAccounts",
    "bankAccounts",
    "company",
    "customers",
    "suppliers",
    "taxRates",
    "trackingCategories",
)
DEAUTHORIZE_AFTER: Final = timedelta(days=90)  # Codat deauthorizes a connection unsynced so long
DEFAULT_AT_RISK_AFTER: Final = timedelta(days=30)  # Codat advises a refresh at least monthly
DEFAULT_SCHEDULE_HOURS: Final = 24
DEFAULT_REFRESH_EVERY: Final = DEFAULT_REFRESH_DATA_EVERY  # policy.refreshDataEvery
# Codat's statuses of a sync queued or running: a refresh now would only queue behind it.
IN_PROGRESS_STATUSES: Final = frozenset(
    {
        "Queued",
        "Fetching",
        "MapQueued",
        "Mapping",
        "ProcessingQueued",
        "Processing",
        "ValidationQueued",
        "Validating",
    }
)
FAILING_STATUSES: Final = frozenset(
    {
        "FetchError",
        "MapError",
        "InternalError",
        "ProcessingError",
        "ValidationError",
        "AuthError",
        "RateLimitError",
        "PermissionsError",
        "PrerequisiteNotMet",
    }
)
_FIELD_NAMES: Final = {
    "bankAccount": "bank account",
    "supplier": "supplier",
    "customer": "customer",
}


@dataclass(frozen=True)
class HealthOptions:
    at_risk_after: timedelta = DEFAULT_AT_RISK_AFTER
    # A data type is stale once older than its schedule times this (one missed sync is allowed).
    stale_factor: float = 2.0
    # The account's sync schedules (hours) by data type; missing: Codat's default, daily.
    schedules: Mapping[str, int] = field(default_factory=dict)
    refresh_data: bool = False  # policy.auto lists refresh_data
    refresh_every: timedelta = DEFAULT_REFRESH_EVERY  # at most one refresh per this period


def _utc(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC"


def _held(
    needed: list[DataTypeStatus], facts: HealthFacts, now: datetime, every: timedelta
) -> str | None:
    """Why a refresh otherwise due is not queued now; None: nothing holds it."""
    if facts.quota_held:
        return "the day's quota left covers no refresh of it: it waits for the next pass"
    busy = [d for d in needed if d.status in IN_PROGRESS_STATUSES]
    if busy:
        shown = ", ".join(f"{d.data_type} {d.status}" for d in busy)
        return f"a sync is in progress ({shown})"
    if facts.history_error is not None:
        return f"Codat's pull history could not be read ({facts.history_error})"
    last = facts.last_refresh
    if last is not None and now - last < every:
        return f"refreshed at {_utc(last)}, next allowed at {_utc(last + every)}"
    return None


def _ago(now: datetime, then: datetime) -> str:
    delta = now - then
    if delta >= timedelta(days=2):
        return f"{delta.days} days ago"
    return f"{max(0, int(delta.total_seconds() // 3600))} hours ago"


def _data_reasons(
    needed: list[DataTypeStatus], missing_types: list[str], now: datetime, options: HealthOptions
) -> list[Reason]:
    reasons: list[Reason] = []
    never = [*missing_types, *(d.data_type for d in needed if d.last_success is None)]
    if never:
        reasons.append(
            Reason(
                ReasonKind.NEVER_FETCHED,
                f"never fetched: {', '.join(never)} (the account's sync settings must fetch it"
                " on first link)",
                "person",
                tuple(never),
            )
        )
    failing = [d for d in needed if d.status in FAILING_STATUSES]
    if failing:
        shown = ", ".join(f"{d.data_type} ({d.status})" for d in failing)
        reasons.append(
            Reason(
                ReasonKind.FAILING,
                f"failing: {shown}",
                "person",
                tuple(d.data_type for d in failing),
            )
        )
    stale = []
    for d in needed:
        hours = options.schedules.get(d.data_type) or DEFAULT_SCHEDULE_HOURS
        limit = timedelta(hours=hours * options.stale_factor)
        if d.last_success is not None and d not in failing and now - d.last_success > limit:
            stale.append(d)
    if stale:
        shown = ", ".join(
            f"{d.data_type} (last synced {_ago(now, d.last_success)})"
            for d in stale
            if d.last_success
        )
        reasons.append(
            Reason(
                ReasonKind.STALE,
                f"older than its schedule: {shown}",
                "person",
                tuple(d.data_type for d in stale),
            )
        )
    return reasons


def assess(
    uid: str,
    company: Company,
    facts: HealthFacts,
    now: datetime,
    options: HealthOptions | None = None,
) -> Health:
    """The customer's health at `now` (Codat's clock at the read)."""
    options = options or HealthOptions()
    reasons: list[Reason] = []
    last_sync = None
    deauthorized_on = None
    at_risk = False
    needed: list[DataTypeStatus] = []
    absent: list[str] = []
    if facts.data is not None:
        by_type = {d.data_type: d for d in facts.data}
        needed = [by_type[t] for t in NEEDED_DATA_TYPES if t in by_type]
        absent = [t for t in NEEDED_DATA_TYPES if t not in by_type]
        synced = [d.last_success for d in needed if d.last_success is not None]
        last_sync = max(synced) if synced else None
        if last_sync is not None:
            deauthorized_on = (last_sync + DEAUTHORIZE_AFTER).date()
            at_risk = now - last_sync > options.at_risk_after
        reasons += _data_reasons(needed, absent, now, options)
    for connection in company.connections:
        if not connection.is_accounting:
            continue
        active = [e for e in connection.errors if (e.status or "Active") == "Active"]
        if active and connection.status == "Linked":
            message = active[-1].message or active[-1].status_text or "no message"
            reasons.append(
                Reason(
                    ReasonKind.CONNECTION_ERROR,
                    f"connection {connection.platform_name} has an Active error: {message}"
                    " (the customer re-authorizes it)",
                    "customer",
                )
            )
    for ref in facts.missing:
        reasons.append(
            Reason(
                ReasonKind.MISSING_REFERENCE,
                f"the expense config's {_FIELD_NAMES.get(ref.field, ref.field)} {ref.id} no"
                " longer exists in the accounting platform: change the file's config",
                "review",
            )
        )
    if facts.error is not None:
        reasons.append(Reason(ReasonKind.FAILING, f"health not read: {facts.error}", "person"))
    # A refresh cannot help while syncs fail or the connection has an Active error (a failed
    # refresh shows as failing); otherwise at most one per period, as Codat's history says.
    refresh = (
        at_risk
        and options.refresh_data
        and not any(r.kind in (ReasonKind.FAILING, ReasonKind.CONNECTION_ERROR) for r in reasons)
    )
    held = _held(needed, facts, now, options.refresh_every) if refresh else None
    if at_risk and last_sync is not None and deauthorized_on is not None:
        reasons = [r for r in reasons if r.kind != ReasonKind.STALE]  # the risk says it all
        who: Who = "converge" if refresh else "person"
        action = (
            f"no refresh now: {held} (policy.auto: refresh_data)"
            if held
            else "a refresh is queued (policy.auto: refresh_data)"
            if refresh
            else "refresh its data, or list refresh_data in policy.auto"
            if not options.refresh_data
            else "a refresh cannot help until the failure above is fixed"
        )
        reasons.insert(
            0,
            Reason(
                ReasonKind.NO_RECENT_SYNC,
                f"no successful sync since {last_sync:%Y-%m-%d} ({(now - last_sync).days}"
                f" days): Codat deauthorizes the connection on {deauthorized_on:%Y-%m-%d};"
                f" {action}",
                who,
            ),
        )
    state = (
        HealthState.AT_RISK if at_risk else HealthState.DEGRADED if reasons else HealthState.HEALTHY
    )
    return Health(
        uid=uid,
        name=company.name,
        company_id=company.id,
        state=state,
        reasons=tuple(reasons),
        last_sync=last_sync,
        deauthorized_on=deauthorized_on,
        refresh_queued=refresh and held is None,
        refresh_held=held,
        last_refresh=facts.last_refresh,
    )


def refresh_due(healths: Iterable[Health]) -> dict[str, str]:
    """Company id -> why, for each customer whose health queues a refresh (`LiveState.refresh_due`:
    the planner plans a `refresh_data` action for each)."""
    return {
        h.company_id: (
            f"at risk: no successful sync since {h.last_sync:%Y-%m-%d}; Codat deauthorizes the"
            f" connection on {h.deauthorized_on:%Y-%m-%d}"
            # The last refresh makes each period's refresh a write of its own (its idempotency
            # key is derived from this text)
            + (f"; last refreshed at {_utc(h.last_refresh)}" if h.last_refresh else "")
        )
        for h in healths
        if h.refresh_queued and h.last_sync is not None and h.deauthorized_on is not None
    }


def refresh_held(healths: Iterable[Health]) -> dict[str, str]:
    """Company id -> why its refresh, otherwise due, is not queued now
    (`LiveState.refresh_held`: the plan notes it)."""
    return {h.company_id: h.refresh_held for h in healths if h.refresh_held is not None}
