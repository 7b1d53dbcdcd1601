"""A large page of `GET /companies` checked as it is decoded: msgspec's typed JSON decoder.

`json.loads` builds a dict for every company and connection, and the fast path then reads them
back (`reconcile.codat.fastpath`); msgspec reads the body straight into typed structs, checking
in C what those checks check in Python: each field the tool reads of the shape it must have,
`totalResults` a count (ids are matched as UUIDs as the model is built: msgspec's own
pattern check costs twice as much). It never explains a problem: on anything it refuses, the
page is decoded and checked as before (`reconcile.codat.answers`), which either explains the
problem or accepts the page. So this module may cost time, never a different answer, and tests
hold it to that (tests/codat/test_typed_page.py).

msgspec differs from `json.loads` on what it skips unread (the fields the tool does not read),
so the bodies where `json.loads` would fail and msgspec would not go the careful way too:
- invalid UTF-8 (msgspec checks only the strings it reads): a body that is not ASCII is
  decoded first;
- an integer longer than Python's `sys.get_int_max_str_digits()` (`json.loads` refuses it);
- nesting as deep as the recursion limit: the decoder runs `_HEADROOM` frames deeper than
  `json.loads` would, so it runs out of depth first (CPython counts both against one limit;
  a test sweeps the depths around it).
Lone surrogates (`"\\ud800"`), which the careful path refuses, msgspec refuses too. The model
built is the fast path's (`new_company`, `new_connection`), its repeated strings shared alike.
"""

from __future__ import annotations

import sys
from sys import intern
from typing import Annotated

import msgspec
from msgspec import Meta, Struct

from reconcile.codat.fastpath import UUID, Unusual, new_company, new_connection
from reconcile.model import UID_TAG, Company, Connection, ConnectionError_

_is_uuid = UUID.fullmatch


class _Error(Struct, gc=False, rename="camel"):
    status_code: str | int | None = None  # the spec says string; a number means the same
    status_text: str | None = None
    error_message: str | None = None
    errored_on_utc: str | None = None
    resolved_on_utc: str | None = None
    status: str | None = None


class _Connection(Struct, gc=False, rename="camel"):
    id: str
    status: str
    source_type: str | None = None
    platform_name: str | None = None
    link_url: str | None = None
    created: str | None = None
    integration_key: str | None = None
    data_connection_errors: list[_Error] | None = None


class _Company(Struct, gc=False, rename="camel"):
    id: str
    name: str
    description: str | None = None
    tags: dict[str, str] | None = None
    data_connections: list[_Connection] | None = None
    created: str | None = None


class _Page(Struct, gc=False, rename="camel"):
    total_results: Annotated[int, Meta(ge=0)]
    results: list[_Company] | None = None


_DECODER = msgspec.json.Decoder(_Page)
_HEADROOM = 16
# A run of digits longer than the limit holds `_SAMPLED` of the bytes sampled every limit/16.
_SAMPLED = 16
_DIGITS_TO_NUL = bytes.maketrans(b"0123456789", b"\0" * 10)


def checked_page(content: bytes) -> tuple[list[Company], int] | None:
    """The page's companies and `totalResults`, or None: read it the careful way."""
    if not content.isascii():
        try:
            content.decode()
        except UnicodeDecodeError:
            return None
    if _may_hold_a_long_integer(content):
        return None
    try:
        page = _decode_deeper(_HEADROOM, content)
    except (ValueError, RecursionError):  # msgspec.DecodeError (ValidationError too) is one
        return None
    try:
        return list(map(_company, page.results or ())), page.total_results
    except Unusual:  # an id that is not a UUID
        return None


def _decode_deeper(frames: int, content: bytes) -> _Page:
    """The decoder, `frames` calls deeper (see the module's docstring)."""
    if frames:
        return _decode_deeper(frames - 1, content)
    return _DECODER.decode(content)


def _may_hold_a_long_integer(content: bytes) -> bool:
    """Whether `content` may hold a run of digits `json.loads` would refuse as an integer: one
    sampled every `stride` bytes is looked for first (a 5 MB page: 20,000 bytes)."""
    limit = sys.get_int_max_str_digits()
    if not limit:
        return False
    stride = (limit + 1) // _SAMPLED
    needle = b"\0" * _SAMPLED
    if needle not in content[::stride].translate(_DIGITS_TO_NUL):
        return False
    return b"\0" * (limit + 1) in content.translate(_DIGITS_TO_NUL)


def _company(company: _Company) -> Company:
    # Tag values repeat across companies (owner, region...): shared, uids excepted (unique).
    # Keys too: msgspec shares most, but its cache of them may drop one for another.
    tags = company.tags
    shared = (
        {}
        if tags is None
        else {intern(k): v if k == UID_TAG else intern(v) for k, v in tags.items()}
    )
    connections = company.data_connections
    if _is_uuid(company.id) is None:
        raise Unusual
    return new_company(
        company.id,
        company.name,
        company.description,
        shared,
        tuple(map(_connection, connections)) if connections else (),
        company.created,
    )


def _connection(connection: _Connection) -> Connection:
    if _is_uuid(connection.id) is None:
        raise Unusual
    key = connection.integration_key
    errors = connection.data_connection_errors
    return new_connection(
        connection.id,
        intern(connection.source_type or "Unknown"),
        intern(connection.platform_name or ""),
        intern(connection.status),
        connection.link_url or "",
        connection.created or "",
        None if key is None else intern(key),
        tuple(map(_error, errors)) if errors else (),
    )


def _error(error: _Error) -> ConnectionError_:
    code = error.status_code
    return ConnectionError_(
        status_code=str(code) if isinstance(code, int) else code,
        status_text=error.status_text,
        message=error.error_message,
        errored_on_utc=error.errored_on_utc,
        resolved_on_utc=error.resolved_on_utc,
        status=error.status,
    )
