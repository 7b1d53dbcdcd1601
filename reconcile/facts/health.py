"""The health reads (issue 26): per Linked company, `GET /companies/{companyId}/dataStatus`;
where a config is set, whether its bank account (the mapping options), supplier and customer
(one read each by id) still exist; once per run, the account's sync schedules
(`GET /profile/syncSettings`). `plan` never makes these reads: `audit --health` and the watch do.

Cost: one request per company with a Linked accounting connection, three more per company with
an expense config, plus one. Reads run HEALTH_READ_CONCURRENCY at a time; one unreadable answer
does not stop the run: that company's facts carry the error.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Final

from reconcile import paths
from reconcile.codat import CodatClient, CodatError
from reconcile.codat.errors import DeadlineExceeded, QuotaExhausted, clean
from reconcile.facts.quota import QUOTA_RESERVE_SHARE, quota_budget
from reconcile.health import HealthOptions, assess, refresh_due
from reconcile.health.model import DataTypeStatus, HealthFacts, HealthState, MissingReference
from reconcile.model import Company, DesiredState, ExpenseConfig, LiveState, Status

HEALTH_READ_CONCURRENCY: Final = 10


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


async def read_refresh_due(
    client: CodatClient,
    desired: DesiredState,
    live: LiveState,
    now: datetime,
    *,
    reserve_share: float = QUOTA_RESERVE_SHARE,
) -> tuple[dict[str, str], list[str], dict[str, int]]:
    """For `policy.auto: [refresh_data]`: the Linked customers at risk a refresh may save
    (company id -> why), reading one data status per Linked company, never beyond the quota
    budget: what Codat says remains today, less a reserve for the partner's own app, must cover
    each read and its refresh; companies beyond it are left for the next pass, with a warning.
    Also the customers read, by health state (the watch's `/metrics`)."""
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
        affordable = budget // 2  # a read and, at most, a refresh each
        if affordable < len(companies):
            warnings.append(
                f"refresh_data: the daily quota left ({remaining}) covers the data status of"
                f" {affordable} of {len(companies)} Linked companies; the rest wait for the"
                " next pass"
            )
            companies = companies[:affordable]
    facts = await read_health(client, companies, {})
    options = HealthOptions(refresh_data=True)
    healths = [assess(c.uid or "", c, facts[c.id], now, options) for c in companies]
    counts = {s.value: sum(1 for h in healths if h.state == s) for s in HealthState}
    return refresh_due(healths), warnings, counts
