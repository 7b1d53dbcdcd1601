"""The health reads (issue 26): per Linked company, `GET /companies/{companyId}/dataStatus`;
where a config is set, whether its bank account (the mapping options), supplier and customer
(one read each by id) still exist; once per run, the account's sync schedules
(`GET /profile/syncSettings`). `plan` never makes these reads: `audit --health` and the watch do.

With `policy.auto: [refresh_data]`, a company at risk whose refresh is otherwise due also has
its pull history read (`GET /companies/{companyId}/data/history`, one request, newest first):
Codat records every refresh there, so a refresh requested within the period by any runner (the
watch, converge, CI, the audit's plan) or before a restart holds the next one
(`reconcile.health.assess`); a history that cannot be read holds it too.

Cost: one request per company with a Linked accounting connection, three more per company with
an expense config, one more per company whose refresh is due, plus one. Reads run
HEALTH_READ_CONCURRENCY at a time; one unreadable answer does not stop the run: that company's
facts carry the error.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Final

from reconcile import paths
from reconcile.codat import CodatClient, CodatError
from reconcile.codat.errors import DeadlineExceeded, QuotaExhausted, clean
from reconcile.facts.quota import QUOTA_RESERVE_SHARE, quota_budget
from reconcile.health import DEFAULT_REFRESH_EVERY, HealthOptions, assess, refresh_due
from reconcile.health.model import (
    DataTypeStatus,
    Health,
    HealthFacts,
    HealthState,
    MissingReference,
)
from reconcile.model import Company, DesiredState, ExpenseConfig, LiveState, Status

HEALTH_READ_CONCURRENCY: Final = 10
# Pull operations read per company, newest first: one data/all records one per data type.
HISTORY_PAGE_SIZE: Final = 20


def _when(text: object) -> datetime | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def parse_data_status(body: object) -> tuple[DataTypeStatus, ...]:
    """Codat's `DataStatuses` (an object keyed by data type); entries that are not objects, or
    name no data type, are left out."""
    if not isinstance(body, Mapping):
        return ()
    found = []
    for key, entry in body.items():
        if not isinstance(entry, Mapping):
            continue
        data_type = entry.get("dataType") or key
        status = entry.get("currentStatus")
        found.append(
            DataTypeStatus(
                data_type=clean(str(data_type), 60),
                status=clean(str(status), 40) if status else "Unknown",
                last_success=_when(entry.get("lastSuccessfulSync")),
            )
        )
    return tuple(sorted(found, key=lambda d: d.data_type))


def parse_sync_schedules(body: object) -> dict[str, int]:
    """Data type -> sync schedule in hours, from `GET /profile/syncSettings`."""
    settings = body.get("settings") if isinstance(body, Mapping) else None
    schedules: dict[str, int] = {}
    for setting in settings if isinstance(settings, list) else ():
        if isinstance(setting, Mapping) and isinstance(setting.get("dataType"), str):
            hours = setting.get("syncSchedule")
            if isinstance(hours, int) and not isinstance(hours, bool) and hours > 0:
                schedules[setting["dataType"]] = hours
    return schedules


async def read_sync_schedules(client: CodatClient) -> dict[str, int]:
    return parse_sync_schedules(await client.request_json("GET", paths.sync_settings()))


def linked_accounting(company: Company) -> bool:
    return any(c.is_accounting and c.status == Status.LINKED.value for c in company.connections)


async def _missing(
    client: CodatClient, company_id: str, config: ExpenseConfig
) -> tuple[MissingReference, ...]:
    options = await client.get_mapping_options(company_id)
    missing = []
    if config.bank_account not in {a.id for a in options.bank_accounts}:
        missing.append(MissingReference("bankAccount", config.bank_account))
    if await client.get_supplier(company_id, config.supplier) is None:
        missing.append(MissingReference("supplier", config.supplier))
    if await client.get_customer(company_id, config.customer) is None:
        missing.append(MissingReference("customer", config.customer))
    return tuple(missing)


async def read_company_health(
    client: CodatClient, company: Company, config: ExpenseConfig | None
) -> HealthFacts:
    """One company's health facts (data `None` without a Linked accounting connection)."""
    if not linked_accounting(company):
        return HealthFacts(company.id)
    try:
        body = await client.request_json("GET", paths.data_status(company.id))
        missing = await _missing(client, company.id, config) if config is not None else ()
    except (QuotaExhausted, DeadlineExceeded):
        raise  # the run stops: nothing more can be read today (or in time)
    except CodatError as exc:
        return HealthFacts(company.id, error=clean(str(exc), 200))
    return HealthFacts(company.id, data=parse_data_status(body), missing=missing)


async def read_health(
    client: CodatClient,
    companies: Sequence[Company],
    configs: Mapping[str, ExpenseConfig | None],
) -> dict[str, HealthFacts]:
    """Health facts of each company (by id), HEALTH_READ_CONCURRENCY reads at a time."""
    gate = asyncio.Semaphore(HEALTH_READ_CONCURRENCY)
    found: dict[str, HealthFacts] = {}

    async def one(company: Company) -> None:
        async with gate:
            found[company.id] = await read_company_health(client, company, configs.get(company.id))

    await asyncio.gather(*(one(c) for c in companies))
    return found


def parse_last_refresh(body: object) -> datetime | None:
    """When the newest pull operation of a `PullOperations` page was requested (None: none)."""
    results = body.get("results") if isinstance(body, Mapping) else None
    found = [
        when
        for op in (results if isinstance(results, list) else ())
        if isinstance(op, Mapping) and (when := _when(op.get("requested"))) is not None
    ]
    return max(found) if found else None


async def read_last_refresh(client: CodatClient, company_id: str) -> datetime | None:
    """One request: the company's pull history, newest first."""
    params = {"page": 1, "pageSize": HISTORY_PAGE_SIZE, "orderBy": "-requested"}
    body = await client.request_json("GET", paths.data_history(company_id), params=params)
    return parse_last_refresh(body)


async def hold_recent_refreshes(
    client: CodatClient,
    companies: Sequence[Company],
    facts: Mapping[str, HealthFacts],
    healths: Sequence[Health],
    now: datetime,
    options: HealthOptions,
) -> list[Health]:
    """`healths` with each refresh otherwise due checked against the company's pull history
    (one read each, HEALTH_READ_CONCURRENCY at a time) and assessed again."""
    by_id = {c.id: c for c in companies}
    due = {h.company_id for h in healths if h.refresh_queued}
    gate = asyncio.Semaphore(HEALTH_READ_CONCURRENCY)
    read: dict[str, HealthFacts] = {}

    async def one(company_id: str) -> None:
        async with gate:
            try:
                last = await read_last_refresh(client, company_id)
            except (QuotaExhausted, DeadlineExceeded):
                raise
            except CodatError as exc:
                read[company_id] = replace(
                    facts[company_id], history_read=True, history_error=clean(str(exc), 200)
                )
                return
            read[company_id] = replace(facts[company_id], last_refresh=last, history_read=True)

    await asyncio.gather(*(one(company_id) for company_id in sorted(due)))
    return [
        assess(h.uid, by_id[h.company_id], read[h.company_id], now, options)
        if h.company_id in read
        else h
        for h in healths
    ]


@dataclass(frozen=True)
class RefreshRead:
    """What the health read of converge and the watch found (`read_refresh_due`)."""

    due: dict[str, str] = field(default_factory=dict)  # company id -> why
    healths: tuple[Health, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def held(self) -> dict[str, str]:
        """Company id -> why a refresh otherwise due waits (the plan notes it)."""
        return {h.company_id: h.refresh_held for h in self.healths if h.refresh_held}

    @property
    def counts(self) -> dict[str, int]:
        """The customers read, by health state (the watch's `/metrics`)."""
        return {s.value: sum(1 for h in self.healths if h.state == s) for s in HealthState}


async def read_refresh_due(
    client: CodatClient,
    desired: DesiredState,
    live: LiveState,
    now: datetime,
    *,
    reserve_share: float = QUOTA_RESERVE_SHARE,
    refresh_every: timedelta = DEFAULT_REFRESH_EVERY,
    refresh_data: bool = True,
    references: bool = False,
) -> RefreshRead:
    """Each Linked customer's health (the watch's status page and `/metrics`) and, for
    `policy.auto: [refresh_data]` (`refresh_data`), the Linked customers at risk a refresh may save
    (company id -> why), reading one data status per Linked company, and the pull history of
    each whose refresh is due, never beyond the quota budget: what Codat says remains today,
    less a reserve for the partner's own app, must cover each read and its refresh; companies
    beyond it are left for the next pass, with a warning. With `references` (the watch's daily
    read), whether each config's bank account, supplier and customer still exist too (three
    more reads a config, as `audit --health`)."""
    uids = {c.uid for c in desired.customers if c.state == "present"}
    companies = [
        c
        for c in live.companies
        if c.owner == desired.owner and c.uid in uids and linked_accounting(c)
    ]
    warnings: list[str] = []
    remaining, limit = client.rate_limit_remaining, client.rate_limit_limit
    budget = quota_budget(remaining, limit, reserve_share)
    if budget is not None:
        # A read and, at most, a refresh each (and a config's three records with `references`)
        affordable = budget // (5 if references else 2)
        if affordable < len(companies):
            warnings.append(
                f"refresh_data: the daily quota left ({remaining}) covers the data status of"
                f" {affordable} of {len(companies)} Linked companies; the rest wait for the"
                " next pass"
            )
            companies = companies[:affordable]
    facts = await read_health(client, companies, live.expense_configs if references else {})
    options = HealthOptions(refresh_data=refresh_data, refresh_every=refresh_every)
    healths = [assess(c.uid or "", c, facts[c.id], now, options) for c in companies]
    later = refreshes_beyond_budget(
        client.rate_limit_remaining,
        quota_budget(client.rate_limit_remaining, limit, reserve_share),
        healths,
        warnings,
    )
    if later:
        facts = {k: replace(f, quota_held=True) if k in later else f for k, f in facts.items()}
        healths = [assess(c.uid or "", c, facts[c.id], now, options) for c in companies]
    healths = await hold_recent_refreshes(client, companies, facts, healths, now, options)
    return RefreshRead(refresh_due(healths), tuple(healths), tuple(warnings))


def refreshes_beyond_budget(
    remaining: int | None, budget: int | None, healths: Sequence[Health], warnings: list[str]
) -> frozenset[str]:
    """The company ids of the refreshes due that the quota left does not cover (a history read
    and a refresh each): they wait for the next pass, with a warning."""
    due = [h for h in healths if h.refresh_queued]
    if budget is None or not due:
        return frozenset()
    affordable = budget // 2
    if affordable >= len(due):
        return frozenset()
    warnings.append(
        f"refresh_data: the daily quota left ({remaining}) covers {affordable} of {len(due)}"
        " refreshes due; the rest wait for the next pass"
    )
    return frozenset(h.company_id for h in due[affordable:])
