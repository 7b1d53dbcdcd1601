"""The fresh read of a few companies: what a converge of one company (a webhook's hint) costs.

For each company id: the company itself (one request), then every company carrying its
`reconcile.uid` (one filtered list: a second company with the same uid is a duplicate, and the
plan must see it), then the expense config and mapping options the planner needs (only where
the config can be applied). A handful of requests, whatever the fleet's size.
"""

from __future__ import annotations

from collections.abc import Iterable

from reconcile.codat import CodatClient, CodatHTTPError
from reconcile.facts.configs import read_configs, read_mapping_options
from reconcile.facts.fleet import live_state, read_time
from reconcile.model import UID_TAG, Company, DesiredState, LiveState


async def read_few(
    client: CodatClient, desired: DesiredState, company_ids: Iterable[str]
) -> tuple[LiveState, frozenset[str]]:
    """The live state of just these companies (and any other carrying the same uid), and the
    uids it concerns (the plan's targets). A company that is gone (404) or belongs to another
    owner concerns nobody."""
    sent_before = client.requests_sent
    owner = desired.owner
    adopted = {c.id: c.uid for c in desired.customers if c.id is not None}
    companies: dict[str, Company] = {}
    holders: dict[str, list[Company]] = {}
    uids: set[str] = set()
    for company_id in sorted(set(company_ids)):
        if company_id in companies:
            continue
        try:
            company = await client.get_company(company_id)
        except CodatHTTPError as exc:
            if exc.status == 404:
                continue
            raise
        if company.owner is None and company.id in adopted:
            companies[company.id] = company  # named by id: for adoption
            uids.add(adopted[company.id])
            continue
        if company.owner != owner or company.uid is None:
            continue
        uids.add(company.uid)
        for twin in await client.list_companies(tags=f"{UID_TAG}={company.uid}"):
            if twin.uid != company.uid:
                continue
            if twin.owner == owner:
                companies[twin.id] = twin
            else:
                holders.setdefault(company.uid, []).append(twin)
    read = list(companies.values())
    read_at = read_time(client)
    configs, warnings = await read_configs(client, desired, read)
    options, option_warnings = await read_mapping_options(client, desired, read, configs)
    found = {uid: tuple(twins) for uid, twins in holders.items()}
    live = live_state(
        client,
        owner,
        read,
        configs,
        options,
        found,
        warnings + option_warnings,
        sent_before=sent_before,
        read_at=read_at,
    )
    return live, frozenset(uids)
