"""A large page checked as msgspec decodes it gives the careful path's answer, or none at all.

The careful path is `parse_page(decode(content))`, as every page was read before; the typed one
(`checked_page`) may decline any page (it is then read the careful way, which explains the
problem), but what it accepts must be exactly what the careful path makes of it, and a page
the careful path refuses it must decline. Hypothesis writes the bodies: well-formed companies,
companies with one field mutated, extra fields of any JSON, and byte-level edits of the text
(what `json.loads` and msgspec may read differently).
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from reconcile.codat.answers import UnexpectedAnswer, decode, parse_page
from reconcile.codat.paging import TYPED_FROM, CheckedPage, decoded_page
from reconcile.codat.typed_page import checked_page
from reconcile.codat.wire import Answer
from reconcile.model import Company
from tests.codat.test_answers import good_companies, json_values, mutated, near_misses
from tests.conftest import examples
from tests.support.hostile_server import company, connection, page

WHERE = "GET /companies"


def careful(content: bytes) -> tuple[list[Company], int] | str:
    try:
        return parse_page(decode(content, WHERE), WHERE)
    except UnexpectedAnswer as exc:
        return str(exc)


def agrees(content: bytes) -> bool:
    """The typed path declined `content`, or made of it what the careful path makes of it."""
    typed = checked_page(content)
    if typed is None:
        return False
    assert typed == careful(content)
    return True


def body(results: list[Any], total: int | None = None, **extra: Any) -> bytes:
    return json.dumps({**page(results, total), **extra}).encode()


# Fields the tool does not read, of any standard JSON (no NaN: msgspec declines it).
standard = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(), children),
    max_leaves=15,
)  # fmt: skip
extras = st.dictionaries(st.sampled_from(["products", "redirect", "x", "_links"]), standard)
good_pages = st.builds(
    lambda companies, more: body([{**c, **more} for c in companies]),
    st.lists(good_companies, max_size=4),
    extras,
)
odd_pages = st.one_of(
    st.builds(lambda cs: body(cs), st.lists(st.one_of(mutated, near_misses), min_size=1)),
    st.builds(lambda total: body([], total), json_values),
    json_values.map(lambda v: json.dumps(v).encode()),
)
# What json.loads and msgspec might read differently, written anywhere in a page's text.
ODD_BYTES = [b'"\\ud800"', b'"\\udc00\\ud800"', b'"\xed\xa0\x80"', b'"\xff"', b'"\xc0\xaf"', b"NaN",
             b"-Infinity", b"1e999", b"01", b"1.", b"-0", b'"\x01"', b'"\t"', b"\xef\xbb\xbf",
             b"\x00", b" ", b",", b":", b'"id"', b'"\\u0069d"', b"[" * 40, b"9" * 30, b"}", b"]",
             b"null", b"true", b'"\\x"', b'"\\u00e9"', b"\x0c", "é".encode()]  # fmt: skip


@st.composite
def edited_pages(draw: st.DrawFn) -> bytes:
    text = draw(good_pages)
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(text)))
        cut = draw(st.integers(0, 2))
        text = text[:at] + draw(st.sampled_from(ODD_BYTES)) + text[at + cut :]
    return text


@settings(max_examples=examples(300))
@given(content=st.one_of(good_pages, odd_pages, edited_pages()))
def test_the_typed_path_decides_nothing_the_careful_path_would_not(content: bytes) -> None:
    agrees(content)


@settings(max_examples=examples(150))
@given(content=good_pages)
def test_pages_the_careful_path_accepts_take_the_typed_path(content: bytes) -> None:
    assume(not isinstance(careful(content), str))
    assume(re.search(rb"[0-9]{300}", content) is None)  # msgspec declines larger integers
    assert agrees(content)


def test_a_real_shaped_page_with_connection_errors() -> None:
    errors = [{"statusCode": 401, "statusText": "gone", "status": "Active"}, {"statusCode": "x"}]
    companies = [
        company(uid=f"cus-{i}", description=None if i % 2 else "d", created="2026-01-01")
        for i in range(50)
    ]
    companies[3]["dataConnections"] = [connection(), connection(dataConnectionErrors=errors)]
    companies[4]["dataConnections"] = [connection(sourceType=None, linkUrl=None, platformName="")]
    companies[5]["tags"] = None
    content = body(companies)
    assert agrees(content)
    checked = checked_page(content)
    assert checked is not None and checked[0][3].connections[1].errors[0].status_code == "401"


@pytest.mark.parametrize(
    "odd",
    [
        b'"\xff"',  # invalid UTF-8 in a field the tool does not read
        b'"\xed\xa0\x80"',  # a surrogate written as UTF-8 (json.loads reads it)
        b'"\\ud800"',  # a lone surrogate escaped
        b"NaN",
        b"9" * 5000,  # an integer longer than json.loads reads
        b"[" * 2000 + b"]" * 2000,
    ],
    ids=["utf8", "encoded-surrogate", "lone-surrogate", "nan", "long-int", "deep"],
)
def test_what_msgspec_would_skip_unread_goes_the_careful_way(odd: bytes) -> None:
    content = body([company()]).replace(b'"pageNumber": 1', b'"pageNumber": ' + odd)
    assert odd in content
    assert checked_page(content) is None


def test_an_integer_json_loads_reads_is_read() -> None:
    limit = sys.get_int_max_str_digits()
    content = body([company()]).replace(b'"pageNumber": 1', b'"pageNumber": ' + b"9" * limit)
    assert agrees(content)


def test_nesting_near_the_recursion_limit_is_decided_as_json_loads_would() -> None:
    """msgspec skips nesting deeper than `json.loads` can read: it must run out first."""
    taken = []
    # From well below the limit: the test's own stack (a pytest-xdist worker's is deeper) counts.
    for depth in range(sys.getrecursionlimit() - 300, sys.getrecursionlimit() + 5):
        nested = b"[" * depth + b"]" * depth
        content = body([company()]).replace(b'"pageNumber": 1', b'"pageNumber": ' + nested)
        taken.append(agrees(content))
    assert taken[0] and not taken[-1]  # the control: both ways are seen


def test_a_page_goes_the_typed_way_from_its_size(monkeypatch: pytest.MonkeyPatch) -> None:
    content = body([company(uid=f"cus-{i}") for i in range(3)])
    small = decoded_page(Answer(200, {}, content), WHERE)
    assert type(small) is dict  # decoded, checked later
    monkeypatch.setattr("reconcile.codat.paging.TYPED_FROM", 0)
    large = decoded_page(Answer(200, {}, content), WHERE)
    assert type(large) is CheckedPage and (large.companies, large.total) == careful(content)
    assert len(content) < TYPED_FROM


@pytest.mark.parametrize(
    ("odd", "message"),
    [
        (company(id="../etc"), r"results\[0\]\.id should be a UUID"),
        (company(id="A" * 36), r"results\[0\]\.id should be a UUID"),
        (
            company(dataConnections=[connection(), connection(id="x")]),
            r"results\[0\]\.dataConnections\[1\]\.id should be a UUID",
        ),
        (company(tags={"k": 1}), r"results\[0\]\.tags\.k should be a string"),
    ],
    ids=["company-id", "company-id-shape", "connection-id", "tag"],
)
def test_what_the_typed_path_declines_is_explained_by_the_careful_one(
    monkeypatch: pytest.MonkeyPatch, odd: dict[str, Any], message: str
) -> None:
    monkeypatch.setattr("reconcile.codat.paging.TYPED_FROM", 0)
    content = body([odd, company()])
    assert checked_page(content) is None
    decoded = decoded_page(Answer(200, {}, content), WHERE)
    with pytest.raises(UnexpectedAnswer, match=message):
        parse_page(decoded, WHERE)


def test_a_body_that_is_not_json_is_explained(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("reconcile.codat.paging.TYPED_FROM", 0)
    with pytest.raises(UnexpectedAnswer, match="not JSON"):
        decoded_page(Answer(200, {"Content-Type": "text/html"}, b"<html>"), WHERE)
