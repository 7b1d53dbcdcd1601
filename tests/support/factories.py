"""Hand-built models for the pure tests (planner, converge, saved plans): one connection, one
company, one customer, with the defaults most tests want and every field overridable."""

from __future__ import annotations

from reconcile.model import (
    OWNER_TAG,
    PROTECT_TAG,
    UID_TAG,
    Company,
    Connection,
    ConnectionError_,
    Customer,
    ExpenseConfig,
    MappingOption,
    MappingOptions,
)

OWNER = "expenses-prod"
CREATED = "2026-11-20T10:00:00Z"
# The platform names Codat gives the integration keys the tests use.
PLATFORMS = {"qhyg": "QuickBooks Online", "gbol": "Xero", "expn": "Partner Expense"}
EXPENSE_KEY = "expn"
# An expense config: bank account 89, supplier 124, customer 140.
CONFIG = ExpenseConfig("89", "124", "140")


def conn(
    cid: str,
    status: str,
    key: str | None = "qhyg",
    name: str | None = None,
    source: str | None = None,
    *,
    created: str = CREATED,
    errors: tuple[ConnectionError_, ...] = (),
    link_url: str | None = None,
    default_platform: str = "qhyg",
) -> Connection:
    """A connection of platform `key` (its name and source type follow from the key unless
    given: `expn` is the partner expense connection, the rest accounting; an unknown key is
    named as `default_platform`)."""
    return Connection(
        id=cid,
        source_type=source or ("Expense" if key == EXPENSE_KEY else "Accounting"),
        platform_name=name or PLATFORMS.get(key or "", PLATFORMS[default_platform]),
        status=status,
        link_url=link_url or f"https://link.example/{cid}",
        created=created,
        integration_key=key,
        errors=errors,
    )


def expense(cid: str = "e1", status: str = "Linked") -> Connection:
    """The partner expense connection."""
    return conn(cid, status, EXPENSE_KEY)


def company(
    uid: str | None = "cus-1",
    *conns: Connection,
    id: str = "c1",
    name: str = "Acme",
    description: str = "",
    tags: dict[str, str] | None = None,
    connections: tuple[Connection, ...] = (),
    owner: str | None = OWNER,
    protected: bool = False,
) -> Company:
    """A company tagged with `owner` and `uid` (None: that tag absent), holding `conns` and
    `connections`."""
    all_tags = dict(tags or {})
    if owner is not None:
        all_tags[OWNER_TAG] = owner
    if uid is not None:
        all_tags[UID_TAG] = uid
    if protected:
        all_tags[PROTECT_TAG] = "true"
    return Company(
        id=id,
        name=name,
        description=description,
        tags=all_tags,
        connections=(*conns, *connections),
    )


def customer(uid: str = "cus-1", name: str = "Acme", **fields: object) -> Customer:
    """A customer of the file: `uid`, `name` and any other field of `Customer`."""
    return Customer(uid=uid, name=name, **fields)  # type: ignore[arg-type]


def bank_accounts(*accounts: tuple[str, str]) -> MappingOptions:
    """A company's mapping options: the bank accounts (id, name) an expense config may name."""
    return MappingOptions(tuple(MappingOption(id, name) for id, name in accounts))
