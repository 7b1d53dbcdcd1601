"""Every answer from Codat is checked here, in one place, before anything uses it.

Codat's answers are input like the desired file: a company or connection id becomes part of a
URL path, tags become a plan, statuses decide what is unlinked. So each field the tool reads is
checked for its shape (the official specs in `codat-oas/`), ids must be UUIDs, and anything else
is one `UnexpectedAnswer` naming the request, the field path and the value (shortened and
escaped, so a hostile value can neither flood nor forge the message). Fields the tool does not
read are dropped unseen; nullable fields may be null.

Decoding is here too: JSON nested too deeply for the decoder (it would blow the stack) is an
`UnexpectedAnswer` like any other, never a `RecursionError`; so is a lone surrogate (`"\ud800"`,
valid JSON but not text: it cannot be written to a file or a terminal as UTF-8).
"""

from __future__ import annotations

import json
import re
import reprlib
from collections.abc import Callable, Mapping
from typing import NoReturn, TypeVar

from reconcile.codat.errors import CodatError
from reconcile.codat.fastpath import (
    UUID,
    Unusual,
    fast_company,
    fast_connection,
    fast_expense_config,
)
from reconcile.model import (
    Company,
    Connection,
    ConnectionError_,
    ExpenseConfig,
    MappingOption,
    MappingOptions,
    Profile,
)

T = TypeVar("T")

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,40}")
MAX_SHOWN = 80
_SHORT = reprlib.Repr()
_SHORT.maxstring = 60
_SHORT.maxother = 60
_SHORT.maxlist = _SHORT.maxtuple = _SHORT.maxdict = 3
_SHORT.maxlevel = 2


class UnexpectedAnswer(CodatError):
    """Codat answered (2xx), but not with the shape the tool reads: nothing is used from it."""

    def __init__(self, where: str, what: str) -> None:
        super().__init__(f"{where}: unexpected answer from Codat: {what}")
        self.where = where
        self.what = what


def shorten(value: object) -> str:
    """A value for an error message: at most 80 characters, control characters escaped
    (`repr` escapes every non-printable character), nesting cut at two levels."""
    shown = _SHORT.repr_str(value, 0) if isinstance(value, str) else _SHORT.repr(value)
    return shown if len(shown) <= MAX_SHOWN else shown[: MAX_SHOWN - 3] + "..."


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


class _At:
    """Where in which answer a value was read: `GET /companies` at `results[3].tags`."""

    __slots__ = ("path", "where")

    def __init__(self, where: str, path: str = "") -> None:
        self.where = where
        self.path = path

    def key(self, name: str) -> _At:
        if _NAME.fullmatch(name) is None:  # a key from the answer (a tag): shown escaped
            return _At(self.where, f"{self.path}[{shorten(name)}]")
        return _At(self.where, f"{self.path}.{name}" if self.path else name)

    def index(self, i: int) -> _At:
        return _At(self.where, f"{self.path}[{i}]")

    def fail(self, expected: str, value: object) -> NoReturn:
        got = "null" if value is None else f"{_kind(value)} {shorten(value)}"
        field = self.path or "the body"
        raise UnexpectedAnswer(self.where, f"{field} should be {expected}, got {got}")

    def missing(self) -> NoReturn:
        raise UnexpectedAnswer(self.where, f"{self.path} is missing")


# ---------------------------------------------------------------------- primitive checks


def _object(value: object, at: _At) -> Mapping[str, object]:
    if not isinstance(value, dict):
        at.fail("an object", value)
    return value


def _list(value: object, at: _At, *, nullable: bool = False) -> list[object]:
    if value is None and nullable:
        return []
    if not isinstance(value, list):
        at.fail("a list", value)
    return value


def _required_str(body: Mapping[str, object], name: str, at: _At) -> str:
    value = body.get(name, _ABSENT)
    if value is _ABSENT:
        at.key(name).missing()
    if not isinstance(value, str):
        at.key(name).fail("a string", value)
    return value


def _optional_str(body: Mapping[str, object], name: str, at: _At) -> str | None:
    value = body.get(name)
    if value is None or isinstance(value, str):
        return value
    at.key(name).fail("a string or null", value)


def _uuid(body: Mapping[str, object], name: str, at: _At) -> str:
    value = body.get(name, _ABSENT)
    if value is _ABSENT:
        at.key(name).missing()
    if not isinstance(value, str) or UUID.fullmatch(value) is None:
        at.key(name).fail("a UUID", value)
    return value


_ABSENT = object()


def _tags(value: object, at: _At) -> dict[str, str]:
    if value is None:
        return {}
    tags = _object(value, at)
    checked: dict[str, str] = {}
    for key, tag in tags.items():
        if not isinstance(tag, str):
            at.key(key).fail("a string", tag)
        checked[key] = tag
    return checked


def _each(values: list[object], at: _At, parse: Callable[[object, _At], T]) -> tuple[T, ...]:
    return tuple(parse(item, at.index(i)) for i, item in enumerate(values))


# ---------------------------------------------------------------------- decoding


def decode(content: bytes, where: str, *, status: int = 200, content_type: str = "") -> object:
    """The JSON body of a 2xx answer (None when empty), or `UnexpectedAnswer`."""
    if not content:
        return None
    try:
        body = json.loads(content)
    except RecursionError:
        raise UnexpectedAnswer(where, "JSON nested too deeply to read") from None
    except ValueError:  # JSONDecodeError and UnicodeDecodeError
        kind = content_type or "no content type"
        raise UnexpectedAnswer(
            where, f"not JSON (status {status}, {kind}); is CODAT_BASE_URL right?"
        ) from None
    # Raw UTF-8 cannot hold a surrogate (strict decoding refuses it): only a `\uD8xx`-`\uDFxx`
    # escape can make one, so the walk runs only for answers that have such an escape.
    if _SURROGATE_ESCAPE.search(content):
        _refuse_lone_surrogates(body, _At(where))
    return body


_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _refuse_lone_surrogates(body: object, at: _At) -> None:
    """Every string (keys too) of a decoded answer; iterative, so any depth json allows."""
    stack: list[tuple[object, _At]] = [(body, at)]
    while stack:
        value, here = stack.pop()
        if isinstance(value, str):
            if _SURROGATE.search(value):
                here.fail("text (it holds a lone surrogate, which is not a character)", value)
        elif isinstance(value, dict):
            for key, item in value.items():
                if _SURROGATE.search(key):
                    here.fail("an object with text keys (a key holds a lone surrogate)", key)
                stack.append((item, here.key(key)))
        elif isinstance(value, list):
            stack.extend((item, here.index(i)) for i, item in enumerate(value))


def json_or_none(content: bytes) -> object:
    """Lenient decoding, for error bodies: the JSON, or None when empty or unreadable."""
    if not content:
        return None
    try:
        return json.loads(content)
    except (ValueError, RecursionError):
        return None


# ---------------------------------------------------------------------- companies


def _checked_parse(
    fast: Callable[[object], T], careful: Callable[[object, _At], T], body: object, at: _At
) -> T:
    """The fast path, or the careful one for what it finds unusual (`reconcile.codat.fastpath`)."""
    try:
        return fast(body)
    except Unusual:
        return careful(body, at)


def parse_company(body: object, where: str, *, at: str = "") -> Company:
    """A company with its `dataConnections`."""
    return _checked_parse(fast_company, _company, body, _At(where, at))


def _company(body: object, here: _At) -> Company:
    company = _object(body, here)
    description = _optional_str(company, "description", here)
    connections = _list(company.get("dataConnections"), here.key("dataConnections"), nullable=True)
    return Company(
        id=_uuid(company, "id", here),
        name=_required_str(company, "name", here),
        description=description,
        tags=_tags(company.get("tags"), here.key("tags")),
        connections=_each(connections, here.key("dataConnections"), _connection),
        created=_optional_str(company, "created", here),
    )


def parse_page(body: object, where: str) -> tuple[list[Company], int]:
    """One page of `GET /companies`: its companies and `totalResults`."""
    here = _At(where)
    page = _object(body, here)
    total = page.get("totalResults", _ABSENT)
    if total is _ABSENT:
        here.key("totalResults").missing()
    if not isinstance(total, int) or isinstance(total, bool) or total < 0:
        here.key("totalResults").fail("a count (an integer of 0 or more)", total)
    results = _list(page.get("results"), here.key("results"), nullable=True)
    companies: list[Company] = []
    append = companies.append
    for item in results:  # the fast path inline: this loop sees every company of a plan
        try:
            append(fast_company(item))
        except Unusual:
            append(_company(item, here.key("results").index(len(companies))))
    return companies, total


# ---------------------------------------------------------------------- connections


def parse_connection(body: object, where: str, *, at: str = "") -> Connection:
    return _checked_parse(fast_connection, _connection, body, _At(where, at))


def _connection(body: object, at: _At) -> Connection:
    conn = _object(body, at)
    errors = _list(conn.get("dataConnectionErrors"), at.key("dataConnectionErrors"), nullable=True)
    return Connection(
        id=_uuid(conn, "id", at),
        source_type=_optional_str(conn, "sourceType", at) or "Unknown",
        platform_name=_optional_str(conn, "platformName", at) or "",
        status=_required_str(conn, "status", at),
        link_url=_optional_str(conn, "linkUrl", at) or "",
        created=_optional_str(conn, "created", at) or "",
        integration_key=_optional_str(conn, "integrationKey", at),
        errors=_each(errors, at.key("dataConnectionErrors"), _connection_error),
    )


def _connection_error(body: object, at: _At) -> ConnectionError_:
    error = _object(body, at)
    code = error.get("statusCode")
    if isinstance(code, int) and not isinstance(code, bool):
        status_code: str | None = str(code)  # the spec says string; a number means the same
    else:
        status_code = _optional_str(error, "statusCode", at)
    return ConnectionError_(
        status_code=status_code,
        status_text=_optional_str(error, "statusText", at),
        message=_optional_str(error, "errorMessage", at),
        errored_on_utc=_optional_str(error, "erroredOnUtc", at),
        resolved_on_utc=_optional_str(error, "resolvedOnUtc", at),
        status=_optional_str(error, "status", at),
    )


# ---------------------------------------------------------------------- expenses


def parse_expense_config(body: object, where: str) -> ExpenseConfig | None:
    """The company's expense config; None for no body (Codat answers 404 for no config)."""
    if body is None:
        return None
    return _checked_parse(fast_expense_config, _expense_config, body, _At(where))


def _expense_config(body: object, here: _At) -> ExpenseConfig | None:
    config = _object(body, here)
    if not config:
        return None

    def ident(name: str) -> str:
        part = config.get(name)
        if part is None:
            return ""
        value = _optional_str(_object(part, here.key(name)), "id", here.key(name))
        return value or ""

    return ExpenseConfig(ident("bankAccount"), ident("supplier"), ident("customer"))


def parse_mapping_options(body: object, where: str) -> MappingOptions:
    """The company's mapping options: the bank accounts (`isBankAccount: true`) among them."""
    here = _At(where)
    options = _object(body, here)
    accounts = _list(options.get("accounts"), here.key("accounts"), nullable=True)
    banks: list[MappingOption] = []
    for i, item in enumerate(accounts):
        at = here.key("accounts").index(i)
        account = _object(item, at)
        is_bank = account.get("isBankAccount")
        if is_bank is not None and not isinstance(is_bank, bool):
            at.key("isBankAccount").fail("true or false", is_bank)
        option = MappingOption(
            _required_str(account, "id", at), _optional_str(account, "name", at) or ""
        )
        if is_bank:
            banks.append(option)
    return MappingOptions(bank_accounts=tuple(banks))


def parse_record(body: object, where: str, name_field: str) -> MappingOption:
    """A supplier (`supplierName`) or customer (`customerName`) from the company's data: its
    `id` (required, a non-empty string) and name (optional)."""
    here = _At(where)
    record = _object(body, here)
    record_id = _required_str(record, "id", here)
    if not record_id:
        here.key("id").fail("a non-empty string", record_id)
    return MappingOption(record_id, _optional_str(record, name_field, here) or "")


def parse_profile(body: object, where: str) -> Profile:
    """The account the key belongs to; `name` is required (Codat-Platform.json `Profile`)."""
    here = _At(where)
    return Profile(name=_required_str(_object(body, here), "name", here))


def check_id(value: object, where: str, field: str) -> str:
    """An id about to be placed in a path (e.g. from a create's answer): a UUID or an error."""
    return _uuid({field: value}, field, _At(where))
