"""Answers are checked in one place: any JSON at all gives a model object or UnexpectedAnswer."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconcile.codat import answers
from reconcile.codat.answers import (
    UnexpectedAnswer,
    check_id,
    decode,
    json_or_none,
    parse_company,
    parse_connection,
    parse_expense_config,
    parse_mapping_options,
    parse_page,
    shorten,
)
from reconcile.codat.fastpath import Unusual, fast_company, fast_expense_config
from reconcile.model import ConnectionError_, ExpenseConfig, MappingOption
from tests.conftest import examples
from tests.support.hostile_server import company, connection

WHERE = "GET /companies"
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text()
    | st.uuids().map(str),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=30,
)
FIELDS = ["id", "name", "description", "tags", "dataConnections", "created", "status",
          "sourceType", "platformName", "linkUrl", "integrationKey", "dataConnectionErrors",
          "bankAccount", "supplier", "customer", "accounts", "isBankAccount", "totalResults",
          "results", "statusCode", "errorMessage"]  # fmt: skip
# Objects shaped almost right: the fields the parsers read, with any values.
near_misses = st.recursive(
    json_values,
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.sampled_from(FIELDS), children, max_size=8)
    ),
    max_leaves=40,
)
texts = st.none() | st.text(max_size=5)
good_connections = st.fixed_dictionaries(
    {"id": st.uuids().map(str), "status": st.sampled_from(["Linked", "PendingAuth", "x"])},
    optional={
        name: texts
        for name in ("sourceType", "platformName", "linkUrl", "created", "integrationKey")
    }
    | {
        "dataConnectionErrors": st.none()
        | st.lists(st.dictionaries(st.sampled_from(FIELDS), texts | st.integers(), max_size=3))
    },
)
good_companies = st.fixed_dictionaries(
    {"id": st.uuids().map(str), "name": st.text(max_size=5)},
    optional={
        "description": texts,
        "created": texts,
        "tags": st.none() | st.dictionaries(st.text(max_size=3), st.text(max_size=3)),
        "dataConnections": st.none() | st.lists(good_connections, max_size=3),
    },
)
# Well-formed companies with one field (of the company or of a connection) replaced...
mutated = st.one_of(
    st.tuples(good_companies, st.sampled_from(FIELDS), json_values).map(
        lambda t: {**t[0], t[1]: t[2]}
    ),
    st.tuples(good_companies, good_connections, st.sampled_from(FIELDS), json_values).map(
        lambda t: {**t[0], "dataConnections": [{**t[1], t[2]: t[3]}]}
    ),
    # ... or one required field left out
    st.tuples(good_companies, st.sampled_from(["id", "name"])).map(
        lambda t: {k: v for k, v in t[0].items() if k != t[1]}
    ),
    st.tuples(good_companies, good_connections, st.sampled_from(["id", "status"])).map(
        lambda t: {**t[0], "dataConnections": [{k: v for k, v in t[1].items() if k != t[2]}]}
    ),
)
PARSERS: list[Callable[[object, str], object]] = [
    parse_company,
    parse_connection,
    parse_expense_config,
    parse_mapping_options,
    parse_page,
]


@settings(max_examples=examples(150))
@given(body=st.one_of(json_values, near_misses, good_companies, mutated))
def test_any_json_is_a_model_object_or_unexpected_answer(body: Any) -> None:
    for parse in PARSERS:
        try:
            parse(body, WHERE)
        except UnexpectedAnswer as exc:
            message = str(exc)
            assert message.startswith(f"{WHERE}: unexpected answer from Codat: ")
            assert message.isprintable() and len(message) < 400


@settings(max_examples=examples(200))
@given(content=st.binary(max_size=200) | json_values.map(lambda v: json.dumps(v).encode()))
def test_any_bytes_decode_or_are_unexpected(content: bytes) -> None:
    try:
        decode(content, WHERE)
    except UnexpectedAnswer as exc:
        assert str(exc).isprintable()
    json_or_none(content)  # never raises


def test_deep_nesting_is_an_unexpected_answer_not_a_recursion_error() -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    with pytest.raises(UnexpectedAnswer, match="nested too deeply"):
        decode(deep, WHERE)
    assert json_or_none(deep) is None


@settings(max_examples=examples(200))
@given(value=json_values)
def test_shortened_values_are_short_and_printable(value: Any) -> None:
    shown = shorten(value)
    assert shown.isprintable() and len(shown) <= 80


def test_a_well_formed_company_becomes_the_model() -> None:
    conn = connection(
        dataConnectionErrors=[
            {"statusCode": 401, "statusText": "Unauthorized", "errorMessage": "expired",
             "erroredOnUtc": "2026-01-02T00:00:00Z", "status": "Active", "resolvedOnUtc": None}
        ]
    )  # fmt: skip
    body = company(description=None, created="2026-01-01T00:00:00Z", dataConnections=[conn])
    parsed = parse_company(body, WHERE)
    assert parsed.id == body["id"] and parsed.name == "Acme" and parsed.description is None
    assert parsed.tags == body["tags"] and parsed.uid == "cus-1"
    (live,) = parsed.connections
    assert (live.id, live.status, live.integration_key) == (conn["id"], "Linked", "gbol")
    assert live.errors == (
        ConnectionError_("401", "Unauthorized", "expired", "2026-01-02T00:00:00Z", None, "Active"),
    )
    assert live.errors[0].active


def test_nullable_and_optional_fields_take_their_defaults() -> None:
    cid = str(uuid.uuid4())
    parsed = parse_company({"id": cid, "name": "A", "tags": None, "dataConnections": None}, WHERE)
    assert (parsed.tags, parsed.connections, parsed.description) == ({}, (), None)
    conn = parse_connection({"id": cid, "status": "PendingAuth"}, WHERE)
    assert (conn.source_type, conn.platform_name, conn.link_url, conn.errors) == (
        "Unknown", "", "", ()
    )  # fmt: skip


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"id": "../../companies/x#", "name": "A"}, "id should be a UUID, got a string '../"),
        ({"id": None, "name": "A"}, "id should be a UUID, got null"),
        ({"id": f"{uuid.uuid4()}/x", "name": "A"}, "id should be a UUID"),
        ({"id": f"{{{uuid.uuid4()}}}", "name": "A"}, "id should be a UUID"),  # {uuid}
        ({"id": uuid.uuid4().hex, "name": "A"}, "id should be a UUID"),  # no hyphens
        ({"id": str(uuid.uuid4()), "name": "A", "tags": ["a"]}, "tags should be an object"),
        ({"id": str(uuid.uuid4()), "name": "A", "tags": {"\x1b[2J": 1}}, "tags['\\x1b[2J']"),
        ({"id": str(uuid.uuid4()), "name": 5}, "name should be a string, got a number 5"),
        ({"id": str(uuid.uuid4()), "name": "A", "dataConnections": [1]}, "dataConnections[0]"),
    ],
)
def test_company_shapes_are_checked(body: dict[str, Any], expected: str) -> None:
    with pytest.raises(UnexpectedAnswer) as err:
        parse_company(body, WHERE)
    assert expected in str(err.value)
    assert str(err.value).isprintable()


def test_a_long_hostile_value_is_shortened_in_the_message() -> None:
    with pytest.raises(UnexpectedAnswer) as err:
        parse_company({"id": "x" * 100_000, "name": "A"}, WHERE)
    assert len(str(err.value)) < 200


def test_expense_config() -> None:
    body = {"bankAccount": {"id": "89"}, "supplier": {"id": "124"}, "customer": {"id": "140"}}
    assert parse_expense_config(body, WHERE) == ExpenseConfig("89", "124", "140")
    assert parse_expense_config(None, WHERE) is None
    assert parse_expense_config({"bankAccount": None}, WHERE) == ExpenseConfig("", "", "")
    with pytest.raises(UnexpectedAnswer, match=r"bankAccount\.id should be a string"):
        parse_expense_config({"bankAccount": {"id": 89}}, WHERE)
    with pytest.raises(UnexpectedAnswer, match="supplier should be an object"):
        parse_expense_config({"supplier": "124"}, WHERE)


def test_mapping_options_keep_the_bank_accounts() -> None:
    body = {
        "expenseProvider": "Partner Expense",
        "accounts": [
            {"id": "89", "name": "Current", "isBankAccount": True},
            {"id": "12", "name": "Travel", "isBankAccount": False},
            {"id": "13", "name": "Other"},
        ],
        "taxRates": None,
    }
    assert parse_mapping_options(body, WHERE).bank_accounts == (MappingOption("89", "Current"),)
    assert parse_mapping_options({"accounts": None}, WHERE).bank_accounts == ()
    with pytest.raises(UnexpectedAnswer, match=r"accounts\[0\]\.isBankAccount"):
        parse_mapping_options({"accounts": [{"id": "1", "isBankAccount": "yes"}]}, WHERE)


def test_check_id() -> None:
    good = str(uuid.uuid4())
    assert check_id(good, "POST /companies", "id") == good
    with pytest.raises(UnexpectedAnswer, match=r"POST /companies: .*id should be a UUID"):
        check_id("../x", "POST /companies", "id")


def careful(body: object) -> object:
    try:
        return answers._company(body, answers._At(WHERE))
    except UnexpectedAnswer:
        return "refused"


def fast(body: object) -> object:
    try:
        return fast_company(body)
    except Unusual:
        return "unusual"


@settings(max_examples=examples(300))
@given(body=st.one_of(good_companies, mutated, near_misses))
def test_the_fast_path_accepts_only_what_the_careful_path_accepts(body: Any) -> None:
    """The fast path may only send an item to the careful one, never decide differently."""
    quick = fast(body)
    if quick != "unusual":
        assert quick == careful(body)


@settings(max_examples=examples(100))
@given(body=good_companies)
def test_well_formed_companies_take_the_fast_path(body: Any) -> None:
    errors = [c.get("dataConnectionErrors") for c in body.get("dataConnections") or ()]
    if not any(errors):
        assert fast(body) == careful(body) != "refused"


config_parts = st.one_of(
    st.none(),
    st.text(max_size=3),
    st.integers(),
    st.dictionaries(
        st.sampled_from(["id", "name"]),
        st.one_of(st.none(), st.text(max_size=3), st.integers(), st.lists(st.none(), max_size=1)),
        max_size=2,
    ),
)
configs = st.one_of(
    st.dictionaries(
        st.sampled_from(["bankAccount", "supplier", "customer", "other"]), config_parts, max_size=4
    ),
    st.none(),
    st.lists(st.none(), max_size=1),
    st.text(max_size=2),
)


@settings(max_examples=examples(300))
@given(body=configs)
def test_the_fast_config_path_accepts_only_what_the_careful_path_accepts(body: Any) -> None:
    """As for companies: the config's fast path decides nothing the careful one would not."""
    try:
        careful_config: object = answers._expense_config(body, answers._At(WHERE))
    except UnexpectedAnswer:
        careful_config = "refused"
    try:
        quick: object = fast_expense_config(body)
    except Unusual:
        return
    assert quick == careful_config


def test_well_formed_configs_take_the_fast_path() -> None:
    body = {"bankAccount": {"id": "89", "name": "x"}, "supplier": {"id": "124"}, "customer": None}
    assert fast_expense_config(body) == ExpenseConfig("89", "124", "")
    assert fast_expense_config({}) is None
    with pytest.raises(Unusual):  # the control: an odd one goes the careful way
        fast_expense_config({"supplier": "124"})
