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

from reconcile.model import UID_TAG, Company, Connection, ExpenseConfig

UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_is_uuid = UUID.fullmatch


class Unusual(Exception):
    """Not the plain well-formed shape: look again, carefully."""


def _str_or_none(value: object) -> str | None:
    if value is None or type(value) is str:
        return value
    raise Unusual


def fast_company(body: object) -> Company:
    if type(body) is not dict:
        raise Unusual
    company_id, name, tags = body.get("id"), body.get("name"), body.get("tags")
    if type(company_id) is not str or type(name) is not str or _is_uuid(company_id) is None:
        raise Unusual
    if tags is None:
        tags = {}
    elif type(tags) is not dict:
        raise Unusual
    else:
        for key, value in tags.items():
            if type(value) is not str or type(key) is not str:
                raise Unusual
        # Tag values repeat across companies (owner, region...): shared. uids are unique.
        tags = {key: value if key == UID_TAG else intern(value) for key, value in tags.items()}
    connections = body.get("dataConnections")
    if connections is None:
        connections = ()
    elif type(connections) is not list:
        raise Unusual
    return Company(
        id=company_id,
        name=name,
        description=_str_or_none(body.get("description")),
        tags=tags,
        connections=tuple(map(fast_connection, connections)),
        created=_str_or_none(body.get("created")),
    )


def fast_connection(body: object) -> Connection:
    if type(body) is not dict:
        raise Unusual
    connection_id, status = body.get("id"), body.get("status")
    if type(connection_id) is not str or type(status) is not str:
        raise Unusual
    errors = body.get("dataConnectionErrors")
    if _is_uuid(connection_id) is None or not (
        errors is None or (type(errors) is list and not errors)
    ):
        raise Unusual  # errors are rare: the careful path reads them
    key = _str_or_none(body.get("integrationKey"))
    # The few values repeated on every connection are shared (interned): a plan holds 100,000s.
    return Connection(
        id=connection_id,
        source_type=intern(_str_or_none(body.get("sourceType")) or "Unknown"),
        platform_name=intern(_str_or_none(body.get("platformName")) or ""),
        status=intern(status),
        link_url=_str_or_none(body.get("linkUrl")) or "",
        created=_str_or_none(body.get("created")) or "",
        integration_key=None if key is None else intern(key),
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
