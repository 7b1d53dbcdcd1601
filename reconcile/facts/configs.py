"""Expense configs and mapping options: read only where the planner could act on them, one
request per company; one unreadable answer leaves that part out of the plan, with a warning.

Which configs a plan reads (`config_reads`): those of the customers whose accounting connection
is Linked (the file's platform, or the kept one) and whose entry has an `expenseConfig`. A pull
request's plan (`plan --base`, `changed` set) reads only those of the customers the change
touches (entries added or different from the base's) and of those that *became Linked* since
the last apply, as far as the listing shows it: the entry asks for the partner expense
connection (`expenses: true`) and the company has none Linked, although its accounting is
Linked. Apply and converge create that connection in the same pass as the config, once the
customer has authorized, so a company in that state has not been set up since it became Linked.
The other configs are left unread (their drift is the audit's to report and converge's to
restore; the plan says so in one line, `Plan.not_read`). A customer with `expenses: false` whose
config was never set after it became Linked shows nothing in the listing: converge (and the
watch) set it, and the full plan and the audit show it.

How many at once: one request per company, so Codat's limit of 10 concurrent requests per
company is never reached; across companies, as many as the client carries at once (its
connection pool, `reconcile.codat.transport.MAX_CONNECTIONS`: more would only wait in the pool),
started no faster than the client's pace (`reconcile.codat.pacing`: Codat's 1,000 a minute).
A plan tells the client how many it may read (`configs_foreseen`) before its listing answers,
so the client's wire gets ready for them meanwhile (`CodatClient.foresee`).
Never beyond the quota budget (`reconcile.facts.quota`): reads it cannot pay for are left out,
with one warning, as are those after the daily quota ran out during the reads.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TypeVar

from reconcile.codat import CodatClient, CodatError, QuotaExhausted
from reconcile.codat.transport import MAX_CONNECTIONS
from reconcile.facts.quota import quota_budget
from reconcile.model import (
    Company,
    Customer,
    DesiredState,
    ExpenseConfig,
    MappingOption,
    MappingOptions,
    Status,
)

# Reads in flight at once, across companies: as many as the client's connection pool carries.
READS_IN_FLIGHT = MAX_CONNECTIONS
# The most requests one company's mapping-options read costs: the options, a supplier and a
# customer by id (a `{name: ...}` reference lists records instead: more, rarely).
OPTIONS_READ_COST = 3
T = TypeVar("T")


async def read_mapping_options(
    client: CodatClient,
    desired: DesiredState,
    companies: list[Company],
    configs: Mapping[str, ExpenseConfig | None],
) -> tuple[dict[str, MappingOptions], list[str]]:
    """Mapping options only for companies whose expense config would change, so the plan can
    refuse ids the company does not have. An unreadable one leaves that config out, warned."""
    # No config read (none can change): no customer or company is walked.
    customers = desired.customers if configs else ()
    wanted = {c.uid: c for c in customers if c.expense_config is not None}
    adopted = {c.id: c for c in wanted.values() if c.id}
    due = []
    for company in companies if configs else ():
        if company.id not in configs:  # the one look-up for most companies
            continue
        customer = adopted.get(company.id) or wanted.get(company.uid or "")
        if customer is not None and configs[company.id] != customer.expense_config:
            due.append(company.id)
    by_id = {c.id: c for c in companies} if due else {}

    async def read(company_id: str) -> MappingOptions:
        company = by_id[company_id]
        customer = adopted.get(company_id) or wanted[company.uid or ""]
        return await _read_options(client, company_id, customer, configs[company_id])

    return await _read_each(
        due, read, "mapping options", "its expense config is left out", client, OPTIONS_READ_COST
    )


async def _read_options(
    client: CodatClient, company_id: str, customer: Customer, live: ExpenseConfig | None
) -> MappingOptions:
    """The mapping options, and the supplier and customer the config would change to: one read
    each, only for an id that differs from the live config's (an unchanged one stands)."""
    wanted = customer.expense_config
    assert wanted is not None
    options = await client.get_mapping_options(company_id)
    named = dict(wanted.names)

    async def check(
        field: str,
        wanted_id: str,
        live_id: str | None,
        read: Callable[[str, str], Awaitable[MappingOption | None]],
    ) -> tuple[MappingOption, ...]:
        if field in named:  # `{name: ...}`: every record, for the planner to resolve the name
            return await client.list_records(company_id, field)
        if wanted_id == live_id:
            return (MappingOption(wanted_id, ""),)
        found = await read(company_id, wanted_id)
        return () if found is None else (found,)

    suppliers = await check(
        "supplier", wanted.supplier, live.supplier if live else None, client.get_supplier
    )
    customers = await check(
        "customer", wanted.customer, live.customer if live else None, client.get_customer
    )
    return replace(options, suppliers=suppliers, customers=customers)


# A resync's choice of the configs read fresh: given the listing and the companies whose config
# can be applied (`due`), the ids to read now and the configs known from earlier reads for the
# rest (the watch: `reconcile.watch.resync`). A company in neither is left out of the plan.
ConfigChoice = Callable[
    [Sequence[Company], Sequence[str]],
    tuple[Collection[str], Mapping[str, ExpenseConfig | None]],
]


@dataclass(frozen=True)
class ConfigReads:
    """The configs a plan reads (company ids, in listing order) and how many it leaves unread
    because a pull request's plan reads only what the change touches."""

    due: tuple[str, ...]
    unread: int = 0


def config_reads(
    desired: DesiredState,
    companies: list[Company],
    changed: frozenset[str] | None = None,
    targets: frozenset[str] = frozenset(),
) -> ConfigReads:
    """Which expense configs to read (see the module's docstring): where the planner could act
    on them (accounting Linked), only for `targets` when given (the plan acts on nothing else),
    and with `changed` (a pull request's plan) only for those uids and the customers that
    became Linked; the rest are counted as unread."""
    wanted = {c.uid: c for c in desired.customers if c.expense_config is not None}
    if not wanted:  # no entry has an expense config: no company is walked
        return ConfigReads(())
    adopted = {c.id: c for c in wanted.values() if c.id}
    due: list[str] = []
    unread = 0
    for company in companies:
        customer = adopted.get(company.id) or wanted.get(company.uid or "")
        if customer is None or (customer.accounting is None and not customer.keep_accounting):
            continue
        if targets and customer.uid not in targets:
            continue
        if not _accounting_linked(customer, company):
            continue
        if changed is None or customer.uid in changed or became_linked(customer, company):
            due.append(company.id)
        else:
            unread += 1
    return ConfigReads(tuple(due), unread)


def configs_foreseen(
    desired: DesiredState, changed: frozenset[str] | None, targets: frozenset[str]
) -> int:
    """The most expense configs `config_reads` could pick that the files alone show, before the
    listing says which customers are Linked: every entry with an `expenseConfig` (only the
    `targets` when given; only the `changed` ones of a pull request's plan, whose customers that
    became Linked only the listing shows)."""
    return sum(
        1
        for c in desired.customers
        if c.expense_config is not None
        and (not targets or c.uid in targets)
        and (changed is None or c.uid in changed)
    )


LINKED = Status.LINKED.value


def _accounting_linked(customer: Customer, company: Company) -> bool:
    """Whether the company has a Linked accounting connection to the customer's platform (any
    platform when the customer keeps its accounting). Once per listed company: a plain loop."""
    for conn in company.connections:
        if conn.status != LINKED or not conn.is_accounting:
            continue
        platform = conn.platform
        if platform is not None and (
            customer.keep_accounting or platform.key == customer.accounting
        ):
            return True
    return False


def became_linked(customer: Customer, company: Company) -> bool:
    """Whether the company (its accounting Linked) was set up before the customer authorized,
    as far as the listing shows: the entry asks for the partner expense connection and the
    company has none Linked (apply and converge create it in the pass that sets the config)."""
    return customer.expenses and not any(
        conn.is_partner_expense and conn.status == LINKED for conn in company.connections
    )


async def read_configs(
    client: CodatClient,
    desired: DesiredState,
    companies: list[Company],
    *,
    changed: frozenset[str] | None = None,
    targets: frozenset[str] = frozenset(),
    choose: ConfigChoice | None = None,
) -> tuple[dict[str, ExpenseConfig | None], list[str]]:
    """Expense configs only where the planner could act on them (`config_reads`); with
    `choose`, only those it picks (the others as it knows them: the watch's resync).

    One unreadable config does not stop the plan: it is left out, with a warning.
    """
    due = config_reads(desired, companies, changed, targets).due
    return await read_due(client, companies, due, choose)


async def read_due(
    client: CodatClient,
    companies: Sequence[Company],
    due: Sequence[str],
    choose: ConfigChoice | None = None,
) -> tuple[dict[str, ExpenseConfig | None], list[str]]:
    """The configs of `due` (`config_reads`), or with `choose` those it picks and the others
    as it knows them."""
    if choose is None:
        return await read_config_ids(client, list(due))
    fresh, known = choose(companies, due)
    read, warnings = await read_config_ids(client, [cid for cid in due if cid in fresh])
    kept = {cid: known[cid] for cid in due if cid not in read and cid in known}
    return {**kept, **read}, warnings


async def read_config_ids(
    client: CodatClient, company_ids: tuple[str, ...] | list[str]
) -> tuple[dict[str, ExpenseConfig | None], list[str]]:
    """The expense config of each company (None: it has none), within the quota budget."""
    return await _read_each(
        list(company_ids), client.get_expense_config, "expense config", "it is left out", client
    )


async def _read_each(
    company_ids: list[str],
    read: Callable[[str], Awaitable[T]],
    what: str,
    consequence: str,
    client: CodatClient,
    cost: int = 1,
) -> tuple[dict[str, T], list[str]]:
    """One read per company (`cost` requests at most each), `READS_IN_FLIGHT` at a time (that
    many readers, each taking the next company as its read ends: no task per company), as many
    as the quota budget pays for. One unreadable answer does not stop the plan: that part is
    left out, with a warning that says so; once the daily quota is used up, nothing more starts
    and one warning says how many were left out."""
    found: dict[str, T] = {}
    warnings: list[str] = []
    budget = quota_budget(client.rate_limit_remaining, client.rate_limit_limit)
    if budget is not None and budget // cost < len(company_ids):
        affordable = budget // cost
        warnings.append(
            f"the daily quota left ({client.rate_limit_remaining} requests, less a reserve for "
            f"the partner's own app) pays for the {what} of {affordable} of {len(company_ids)} "
            f"companies; {consequence} of this plan for the other {len(company_ids) - affordable}"
            " (plan again once the quota resets)"
        )
        company_ids = company_ids[:affordable]
    client.foresee(len(company_ids) * cost)
    used_up: list[QuotaExhausted] = []
    failed = 0
    due = iter(company_ids)  # shared: each reader takes the next id as it is free

    async def reader() -> None:
        nonlocal failed
        for company_id in due:
            if used_up:
                return
            try:
                found[company_id] = await read(company_id)
            except QuotaExhausted as exc:
                used_up.append(exc)
            except CodatError as exc:
                failed += 1
                warnings.append(
                    f"could not read the {what} of company {company_id} ({exc}); "
                    f"{consequence} of this plan"
                )

    await asyncio.gather(*(reader() for _ in range(min(READS_IN_FLIGHT, len(company_ids)))))
    if used_up:
        left = len(company_ids) - len(found) - failed
        warnings.append(
            f"{used_up[0]}: the {what} of {left} of {len(company_ids)} companies could not be "
            f"read; {consequence} of this plan for them"
        )
    return found, sorted(warnings)
