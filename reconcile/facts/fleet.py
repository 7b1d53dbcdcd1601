"""The owner's fleet as a plan needs it: one read into one `LiveState`.

A plan costs one request per 5,000 managed companies, plus one per company adopted with `id:`
that is not yet tagged, plus one expense-config read per customer whose config can be applied
(a pull request's plan: only of the customers it changes or that became Linked, see
`reconcile.facts.configs`), plus one mapping-options read per company whose config would
change, with one supplier and one customer read by id where the config would change that id.
Before the plan creates companies it looks for any company already carrying their
`reconcile.uid`, and that of the owner's company of another customer with the same name (see
`reconcile.facts.holders`); in steady state (no creates) that costs nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from reconcile.codat import CodatClient, CodatHTTPError
from reconcile.codat.client import MAX_PAGE_SIZE
from reconcile.codat.paging import first_requests
from reconcile.model import OWNER_TAG, UID_TAG, Company, LiveState

if TYPE_CHECKING:
    from reconcile.facts.configs import ConfigChoice
    from reconcile.model import DesiredState, ExpenseConfig, MappingOptions


def owner_filter(owner: str) -> str:
    return f"{OWNER_TAG}={owner}"


@dataclass(frozen=True)
class Listing:
    """The owner's list read, started before the desired state is built (`start_listing`)."""

    owner: str
    task: asyncio.Future[list[Company]]
    sent_before: int  # the client's count when it started
    first: int  # the client's count of requests begun once the first pages are begun


def start_listing(client: CodatClient, owner: str, expected: int) -> Listing:
    """Start reading the owner's companies now (the pages `expected` companies fill at once),
    for `read_live(..., listing=)`: a run builds its model of the files meanwhile."""
    sent_before, begun = client.requests_sent, client.outbox.begun
    listed = client.list_companies(tags=owner_filter(owner), expected=expected)
    first = begun + first_requests(MAX_PAGE_SIZE, expected)
    return Listing(owner, asyncio.ensure_future(listed), sent_before, first)


async def listing_written(client: CodatClient, listing: Listing, within: float) -> None:
    """Returns once the listing's first requests are on the network, or it ended, or `within`
    seconds passed (a request may wait for its pace, a connection for its handshake)."""
    waiter = asyncio.ensure_future(client.outbox.written(listing.first))
    try:
        await asyncio.wait(
            (waiter, listing.task), timeout=within, return_when=asyncio.FIRST_COMPLETED
        )
    finally:
        waiter.cancel()


async def read_live(
    client: CodatClient,
    desired: DesiredState,
    targets: frozenset[str] = frozenset(),
    *,
    changed: frozenset[str] | None = None,
    choose: ConfigChoice | None = None,
    account: bool = False,
    listing: Listing | None = None,
) -> LiveState:
    """Everything the planner needs for `desired` (only the `targets` uids when given; with
    `changed`, a pull request's plan, only the expense configs of those uids and of customers
    that became Linked; with `choose`, the expense configs it picks are read and the others
    taken as it knows them: the watch's resync); with `account`, the key's account too (`GET
    /profile`, beside the listing: no added wall time, and nothing added when an environment's
    account is confirmed anyway); the owner's list from `listing` when it was started already."""
    if listing is not None and listing.owner != desired.owner:  # pragma: no cover - a bug
        raise ValueError("the listing started is another owner's")
    # What the listing's answer is needed for, imported after the listing was sent (a plan
    # starts it first: `start_listing`).
    from reconcile.facts.account import with_account
    from reconcile.facts.configs import (
        config_reads,
        configs_foreseen,
        read_due,
        read_mapping_options,
    )
    from reconcile.facts.holders import namesakes, read_uid_holders

    sent_before = client.requests_sent if listing is None else listing.sent_before
    if choose is None:  # the wire gets ready for the config reads while the listing is read
        client.foresee(configs_foreseen(desired, changed, targets))
    adopted = [c.id for c in desired.customers if c.id]
    owned = read_owned(
        client,
        desired.owner,
        adopted,
        expected=len(desired.customers),
        listed=None if listing is None else listing.task,
    )
    name: str | None = None
    if account:
        (companies, gone, read_at), name = await with_account(client, owned)
    else:
        companies, gone, read_at = await owned
    managed_uids = {  # the tags read directly: 100,000 companies
        uid
        for c in companies
        if (tags := c.tags).get(OWNER_TAG) == desired.owner and (uid := tags.get(UID_TAG))
    }
    creates = sorted(
        c.uid
        for c in desired.customers
        if c.state == "present"
        and c.id is None
        and c.uid not in managed_uids
        and (not targets or c.uid in targets)
    )
    uids = creates + namesakes(desired.owner, desired.customers, companies, creates)
    holders = await read_uid_holders(client, desired.owner, uids, len(companies))
    reads = config_reads(desired, companies, changed, targets)
    configs, warnings = await read_due(client, companies, reads.due, choose)
    options, option_warnings = await read_mapping_options(client, desired, companies, configs)
    live = live_state(
        client,
        desired.owner,
        companies,
        configs,
        options,
        holders,
        warnings + option_warnings,
        sent_before=sent_before,
        read_at=read_at,
        account=name,
        gone=gone,
    )
    return replace(live, configs_not_read=reads.unread) if reads.unread else live


async def read_owned(
    client: CodatClient,
    owner: str,
    ids: Sequence[str],
    *,
    expected: int = 0,
    listed: Awaitable[list[Company]] | None = None,
) -> tuple[list[Company], list[str], str]:
    """The owner's companies (one list read by the owner tag, one request per 5,000, the pages
    `expected` companies fill asked for at once; `listed` when it was started already) plus
    those of `ids` the list does not hold (adopted, not tagged yet: one read each), the ids
    Codat no longer has (404), and Codat's clock at the list (`read_time`)."""
    if listed is None:
        listed = client.list_companies(tags=owner_filter(owner), expected=expected)
    companies = list(await listed)
    read_at = read_time(client)
    gone: list[str] = []
    if not ids:  # the usual case: no set of every listed id is needed
        return companies, gone, read_at
    known = {c.id for c in companies}
    for cid in ids:
        if cid in known:
            continue
        try:
            companies.append(await client.get_company(cid))
            known.add(cid)
        except CodatHTTPError as exc:
            if exc.status != 404:
                raise
            gone.append(cid)
    return companies, gone, read_at


def live_state(
    client: CodatClient,
    owner: str,
    companies: list[Company],
    configs: Mapping[str, ExpenseConfig | None],
    options: Mapping[str, MappingOptions],
    holders: Mapping[str, tuple[Company, ...]],
    warnings: list[str],
    *,
    sent_before: int,
    read_at: str,
    account: str | None = None,
    gone: Sequence[str] = (),
) -> LiveState:
    """What a read found, with what it cost and the quota it left (from the client)."""
    reset = client.rate_limit_reset
    return LiveState(
        owner=owner,
        companies=tuple(companies),
        expense_configs=configs,
        requests=client.requests_sent - sent_before,
        read_at=read_at,
        warnings=tuple(warnings),
        uid_holders=holders,
        mapping_options=options,
        rate_limit_remaining=client.rate_limit_remaining,
        rate_limit_limit=client.rate_limit_limit,
        rate_limit_reset=reset.isoformat() if reset else None,
        account=account,
        gone=frozenset(gone),
    )


def read_time(client: CodatClient) -> str:
    """Codat's clock at the last answer, one second back: its Date header has whole seconds,
    so "before the read" stays true."""
    server_time = client.server_time or datetime.now(UTC)
    return (server_time - timedelta(seconds=1)).isoformat()
