"""Companies outside the owner that carry the `reconcile.uid` of a customer a plan would create
(identity is defended, not assumed): the cheaper of one filtered read per uid or one paged read
of the whole account.

A create that carries the name of the owner's company matched to another customer has those
holders looked up too (`namesakes`): a company that lost its owner tag while still carrying
that uid is a twin of it, and the create may be the customer whose uid tag was edited onto it
(`reconcile.planner.twins`)."""

from __future__ import annotations

from collections.abc import Sequence

from reconcile import paths
from reconcile.codat import CodatClient
from reconcile.codat.client import MAX_PAGE_SIZE
from reconcile.codat.paging import WHERE, decoded_page, parsed_page, read_all
from reconcile.model import UID_TAG, Company, Customer, name_key


async def read_uid_holders(
    client: CodatClient, owner: str, uids: list[str], known: int
) -> dict[str, tuple[Company, ...]]:
    """Companies outside `owner`'s tag that carry one of `uids` as `reconcile.uid`.

    Reads count against Codat's daily quota, so this takes the cheaper of two ways: one
    filtered read per uid (`tags=reconcile.uid=U`) when the uids are few, or one paged read of
    every company in the account (5,000 a page) when they are many. `known` (companies already
    read) is a lower bound of the account's size; when that cannot decide, the first page of
    the whole account is read and tells its size, and the rest goes the cheaper way: at most
    one request more than the cheaper of the two.
    """
    if not uids:
        return {}
    if len(uids) <= max(1, _pages(known)):
        return await _filtered(client, owner, uids)
    first = await _page(client, 1)
    _, total = parsed_page(first)
    if len(uids) <= _pages(total) - 1:
        return await _filtered(client, owner, uids)
    pages: dict[int, object] = {1: first}

    async def fetch(page: int) -> object:
        if page in pages:
            return pages.pop(page)
        return await _page(client, page)

    wanted = set(uids)
    found: dict[str, list[Company]] = {}
    limit = client.settings.max_listed_companies
    for company in await read_all(fetch, MAX_PAGE_SIZE, max_companies=limit):
        if company.uid in wanted and company.owner != owner:
            found.setdefault(company.uid, []).append(company)
    return {uid: tuple(c) for uid, c in found.items()}


def namesakes(
    owner: str, customers: Sequence[Customer], companies: Sequence[Company], creates: list[str]
) -> list[str]:
    """The uids of `owner`'s companies matched to another customer of the file (not adopted by
    `id:`) whose name is that of a customer in `creates` (`name_key`): their holders outside
    the owner are looked up with the creates'. Nothing when no create shares a name with such
    a company (the usual case), and no work at all without creates."""
    if not creates:
        return []
    wanted = set(creates)
    keys = {name_key(c.name) for c in customers if c.uid in wanted}
    others = {c.uid for c in customers if c.id is None and c.uid not in wanted}
    found = {
        uid
        for company in companies
        if (uid := company.uid) in others
        and company.owner == owner
        and name_key(company.name) in keys
    }
    return sorted(found)


def _pages(companies: int) -> int:
    return -(-companies // MAX_PAGE_SIZE)


async def _filtered(
    client: CodatClient, owner: str, uids: list[str]
) -> dict[str, tuple[Company, ...]]:
    found: dict[str, tuple[Company, ...]] = {}
    for uid in uids:
        holders = tuple(
            company
            for company in await client.list_companies(tags=f"{UID_TAG}={uid}")
            if company.uid == uid and company.owner != owner
        )
        if holders:
            found[uid] = holders
    return found


async def _page(client: CodatClient, page: int) -> object:
    """Page `page` of every company in the account, decoded as the owner's listing is."""
    params = {"page": page, "pageSize": MAX_PAGE_SIZE}
    return decoded_page(await client.request("GET", paths.companies(), params=params), WHERE)
