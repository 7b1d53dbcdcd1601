"""The actions a plan can hold: subject, reason, idempotency key, before/after, and the request
(built by `reconcile.plans.requests`, the one home of requests).

Every key derives from the action, its body and the live state it was planned against
(docs/design.md §8), so a retry or a concurrent apply of the same plan replays, while a write
planned against a different state (the cause of an earlier refusal fixed in Codat, a connection
authorized since) gets a new key and is not answered with a stale replay.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from reconcile.model import (
    PARTNER_EXPENSE_NAME,
    PLATFORMS_BY_KEY,
    Company,
    Connection,
    Customer,
    ExpenseConfig,
    MappingOptions,
    Status,
)
from reconcile.plans import Action, Kind, derive_key
from reconcile.plans import requests as request


def company_view(name: str, description: str | None, tags: Mapping[str, str]) -> dict[str, object]:
    return {"name": name, "description": description or "", "tags": dict(sorted(tags.items()))}


def create_company(owner: str, customer: Customer, reason: str) -> Action:
    post = request.create_company(
        owner,
        customer.uid,
        customer.name,
        customer.description,
        customer.tags,
        protect=customer.protect,
    )
    return Action(
        Kind.CREATE_COMPANY,
        customer.uid,
        None,
        "company",
        reason,
        post,
        idempotency_key=derive_key(owner, customer.uid, "create_company", post.body),
        after=company_view(customer.name, customer.description, customer.tags),
    )


def unchanged(customer: Customer, company: Company, tags: Mapping[str, str]) -> bool:
    """Whether the company already has the customer's name and description and `tags`: then
    `update_company`'s views would be equal (the usual case: they are not built)."""
    return (
        company.name == customer.name
        and (company.description or "") == (customer.description or "")
        and company.tags == tags
    )


def update_company(
    customer: Customer, company: Company, tags: Mapping[str, str], reason: str
) -> Action | None:
    """A PUT with the full wanted state (name, description, every tag), or None if equal."""
    if unchanged(customer, company, tags):
        return None
    before = company_view(company.name, company.description, company.tags)
    after = company_view(customer.name, customer.description, tags)
    if before == after:
        return None
    return Action(
        Kind.UPDATE_COMPANY,
        customer.uid,
        company.id,
        "company",
        reason,
        request.update_company(company.id, customer.name, customer.description, tags),
        before=before,
        after=after,
    )


def retag_company(uid: str, company: Company, tags: Mapping[str, str], reason: str) -> Action:
    """A PUT that changes only the tags (name and description as Codat holds them)."""
    same = Customer(uid=uid, name=company.name, description=company.description)
    action = update_company(same, company, tags, reason)
    assert action is not None, "retag_company is only asked for a tag change"
    return action


def delete_company(uid: str, company: Company, reason: str) -> Action:
    return Action(
        Kind.DELETE_COMPANY,
        uid,
        company.id,
        "company",
        reason,
        request.delete_company(company.id),
        before=company_view(company.name, company.description, company.tags),
    )


def connection_subject(conn: Connection) -> str:
    if conn.is_partner_expense:
        return "partner expense connection"
    platform = conn.platform
    label = platform.label if platform else conn.platform_name or PARTNER_EXPENSE_NAME
    return f"{conn.source_type.lower()} connection {label}"


def retire_connection(owner: str, uid: str, cid: str, conn: Connection, why: str) -> Action:
    """Unlink a Linked connection; delete a PendingAuth one (an abandoned link holds nothing).

    The action records the status it was planned against: the executor re-reads it right
    before the write and refuses if it changed (a Linked connection is never deleted)."""
    subject = connection_subject(conn)
    if conn.status == Status.LINKED.value:
        return Action(
            Kind.UNLINK_CONNECTION,
            uid,
            cid,
            subject,
            why,
            request.unlink_connection(cid, conn.id),
            idempotency_key=derive_key(owner, uid, "unlink", cid, conn.id, conn.status),
            connection_id=conn.id,
            status=conn.status,
        )
    return Action(
        Kind.DELETE_CONNECTION,
        uid,
        cid,
        subject,
        why,
        request.delete_connection(cid, conn.id),
        connection_id=conn.id,
        status=conn.status,
    )


def create_connection(
    owner: str,
    customer: Customer,
    cid: str | None,
    key: str,
    seen: tuple[Connection, ...],
    reason: str | None = None,
    replaces: Connection | None = None,
) -> Action:
    """`replaces`: the connection the customer disconnected, recorded as `before`."""
    platform = PLATFORMS_BY_KEY[key]
    return Action(
        Kind.CREATE_CONNECTION,
        customer.uid,
        cid,
        f"accounting connection {platform.label}",
        reason or f"no usable {platform.name} connection",
        request.create_connection(cid, key),
        idempotency_key=derive_key(owner, customer.uid, "create_connection", cid, key, _seen(seen)),
        before=_was(replaces),
        after={"platformKey": key},
    )


def create_partner_expense(
    owner: str,
    customer: Customer,
    cid: str | None,
    seen: tuple[Connection, ...],
    reason: str | None = None,
    replaces: Connection | None = None,
) -> Action:
    return Action(
        Kind.CREATE_PARTNER_EXPENSE,
        customer.uid,
        cid,
        "partner expense connection",
        reason or "expenses: true and no Linked partner expense connection",
        request.create_partner_expense(cid),
        idempotency_key=derive_key(owner, customer.uid, "create_partner_expense", cid, _seen(seen)),
        before=_was(replaces),
    )


def set_expense_config(
    owner: str,
    customer: Customer,
    cid: str,
    live: ExpenseConfig | None,
    options: MappingOptions | None,
    wanted: ExpenseConfig | None = None,
    resolved: Sequence[str] = (),
) -> Action:
    """`wanted`: the file's config with any names resolved to ids (`resolved` says how)."""
    wanted = wanted or customer.expense_config
    assert wanted is not None and not wanted.names
    body = wanted.to_wire()
    # The mapping options are part of what the write depends on: a config refused (400) for an
    # account that was missing gets a new key once the account exists, not a replayed refusal.
    choices = sorted(o.id for o in options.bank_accounts) if options else None
    return Action(
        Kind.SET_EXPENSE_CONFIG,
        customer.uid,
        cid,
        "expense config",
        ("no expense config yet" if live is None else "expense config differs from the file")
        + "".join(f"; {r}" for r in resolved),
        request.set_expense_config(cid, body),
        idempotency_key=derive_key(
            owner,
            customer.uid,
            "set_expense_config",
            cid,
            body,
            live.to_wire() if live else None,
            choices,
        ),
        before=live.to_wire() if live else None,
        after=body,
    )


def refresh_data(owner: str, customer: Customer, cid: str, why: str) -> Action:
    """Refresh the company's data (`POST .../data/all`): one key per at-risk episode and period
    (the reason names the last successful sync and the last refresh), so passes that see the
    same state send it once."""
    return Action(
        Kind.REFRESH_DATA,
        customer.uid,
        cid,
        "data",
        why,
        request.refresh_data(cid),
        idempotency_key=derive_key(owner, customer.uid, "refresh_data", cid, why),
    )


def _was(conn: Connection | None) -> dict[str, str | None] | None:
    """What became of the connection a create replaces (shown with the create)."""
    if conn is None:
        return None
    return {"id": conn.id, "status": conn.status, "since": conn.changed_on, "created": conn.created}


def _seen(connections: tuple[Connection, ...]) -> list[tuple[str, str]]:
    return sorted((c.id, c.status) for c in connections)
