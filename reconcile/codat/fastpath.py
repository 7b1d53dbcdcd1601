"""The fast path of `reconcile.codat.answers`: the same checks, without the field paths.

A plan for 100,000 customers reads 100,000 companies, so checking them must cost little next
to decoding them. These functions accept exactly the well-formed answers (plain `dict`, `list`,
`str` as JSON decodes them) and raise `Unusual` on anything else, without saying what: the
caller then re-reads that one item with the careful checks, which either explain the problem
(`UnexpectedAnswer` with the field path) or accept it. So a difference between the two paths
can cost time, never correctness (tests hold them to the same answers).
"""

from __future__ import annotations

import re
from sys import intern
from typing import Any

from reconcile.model import UID_TAG, Company, Connection, ConnectionError_, ExpenseConfig

UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_is_uuid = UUID.fullmatch


class Unusual(Exception):
    """Not the plain well-formed shape: look again, carefully."""


# The model's live types are frozen slotted dataclasses: their `__init__` sets each field with
# `object.__setattr__`, half of a company's cost here (a plan reads 100,000s of them). The
# builders below set the same slots through their descriptors, as that call ends up doing: the
# same objects (tests hold them to the classes' fields), built in half the time.
_new = object.__new__


def _slots(cls: type, *names: str) -> tuple[Any, ...]:
    return tuple(cls.__dict__[name].__set__ for name in names)


COMPANY_FIELDS = ("id", "name", "description", "tags", "connections", "created")
CONNECTION_FIELDS = ("id", "source_type", "platform_name", "status", "link_url", "created",
                     "integration_key", "errors")  # fmt: skip
_co_id, _co_name, _co_description, _co_tags, _co_connections, _co_created = _slots(
    Company, *COMPANY_FIELDS
)
_cn_id, _cn_source, _cn_platform, _cn_status, _cn_link, _cn_created, _cn_key, _cn_errors = _slots(
    Connection, *CONNECTION_FIELDS
)


def new_company(
    company_id: str,
    name: str,
    description: str | None,
    tags: dict[str, str],
    connections: tuple[Connection, ...],
    created: str | None,
) -> Company:
    """`Company(...)` with these values, built faster."""
    company: Company = _new(Company)
    _co_id(company, company_id)
    _co_name(company, name)
    _co_description(company, description)
    _co_tags(company, tags)
    _co_connections(company, connections)
    _co_created(company, created)
    return company


def new_connection(
    connection_id: str,
    source_type: str,
    platform_name: str,
    status: str,
    link_url: str,
    created: str,
    integration_key: str | None,
    errors: tuple[ConnectionError_, ...],
) -> Connection:
    """`Connection(...)` with these values, built faster."""
    connection: Connection = _new(Connection)
    _cn_id(connection, connection_id)
    _cn_source(connection, source_type)
    _cn_platform(connection, platform_name)
    _cn_status(connection, status)
    _cn_link(connection, link_url)
    _cn_created(connection, created)
    _cn_key(connection, integration_key)
    _cn_errors(connection, errors)
    return connection


def fast_company(body: object) -> Company:
    if type(body) is not dict:
        raise Unusual
    get = body.get
    company_id, name, tags = get("id"), get("name"), get("tags")
    if type(company_id) is not str or type(name) is not str or _is_uuid(company_id) is None:
        raise Unusual
    if tags is None:
        tags = {}
    elif type(tags) is not dict:
        raise Unusual
    else:
        # Tag values repeat across companies (owner, region...): shared. uids are unique.
        shared = {}
        for key, value in tags.items():
            if type(value) is not str or type(key) is not str:
                raise Unusual
            shared[key] = value if key == UID_TAG else intern(value)
        tags = shared
    connections = get("dataConnections")
    if connections is None:
        connections = ()
    elif type(connections) is not list:
        raise Unusual
    description, created = get("description"), get("created")
    if (description is not None and type(description) is not str) or (
        created is not None and type(created) is not str
    ):
        raise Unusual
    return new_company(
        company_id, name, description, tags, tuple(map(fast_connection, connections)), created
    )


def fast_connection(body: object) -> Connection:
    if type(body) is not dict:
        raise Unusual
    get = body.get
    connection_id, status = get("id"), get("status")
    if type(connection_id) is not str or type(status) is not str:
        raise Unusual
    errors = get("dataConnectionErrors")
    if _is_uuid(connection_id) is None or not (
        errors is None or (type(errors) is list and not errors)
    ):
        raise Unusual  # errors are rare: the careful path reads them
    source, platform, link = get("sourceType"), get("platformName"), get("linkUrl")
    created, key = get("created"), get("integrationKey")
    for value in (source, platform, link, created, key):
        if value is not None and type(value) is not str:
            raise Unusual
    # The few values repeated on every connection are shared (interned): a plan holds 100,000s.
    return new_connection(
        connection_id,
        intern(source or "Unknown"),
        intern(platform or ""),
        intern(status),
        link or "",
        created or "",
        None if key is None else intern(key),
        (),
    )


def _config_id(part: object) -> str:
    if part is None:
        return ""
    if type(part) is not dict:
        raise Unusual
    value = part.get("id")
    if value is None:
        return ""
    if type(value) is not str:
        raise Unusual
    return value


def fast_expense_config(body: object) -> ExpenseConfig | None:
    """A full plan reads one config per Linked customer: thousands of answers."""
    if type(body) is not dict:
        raise Unusual
    if not body:
        return None
    get = body.get
    return ExpenseConfig(
        _config_id(get("bankAccount")), _config_id(get("supplier")), _config_id(get("customer"))
    )
