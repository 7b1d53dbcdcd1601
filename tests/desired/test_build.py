"""What the built model keeps of the files' data (`reconcile.desired.build`)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import fields, is_dataclass
from typing import Any

from reconcile.desired.build import build_state
from reconcile.model import Customer, DesiredState, ExpenseConfig, Location

FRESH: set[int] = set()


def fresh(text: str) -> str:
    """An equal string that is not `text` (as a reader's would be), noted in FRESH."""
    made = "".join(list(text))
    FRESH.add(id(made))
    return made


def data() -> dict[str, Any]:
    """A file's plain data with every customer field a model keeps, each string its own."""
    configured = {"bankAccount": fresh("b-1"), "supplier": {"name": fresh("Amex")}}
    return {
        "owner": fresh("o"),
        "defaults": {"tags": {fresh("team"): fresh("emea")}, "description": fresh("default")},
        "customers": [
            {
                "uid": fresh("cus-1"),
                "name": fresh("Acme Ltd"),
                "tags": {fresh("region"): fresh("fr")},
                "accounting": fresh("xero"),
                "expenseConfig": {**configured, "customer": fresh("c-1")},
                "id": fresh("ABC"),
                "environments": [fresh("test")],
                "overrides": {fresh("test"): {"tags": {fresh("region"): fresh("de")}}},
                "state": fresh("absent"),
            },
            {"uid": fresh("cus-2"), "name": fresh("Beta"), "tags": {fresh("region"): fresh("fr")}},
            {"uid": fresh("cus-3"), "name": fresh("Gamma"), "description": None, "protect": False},
        ],
    }


def strings(value: Any) -> Iterator[str]:
    """Every string `value` holds (dataclass fields, mappings, sequences, sets, keys too)."""
    if isinstance(value, str):
        yield value
    elif is_dataclass(value) and not isinstance(value, type):
        for field in fields(value):
            yield from strings(getattr(value, field.name))
    elif hasattr(value, "items"):
        for key, item in value.items():
            yield from strings(key)
            yield from strings(item)
    elif isinstance(value, tuple | list | frozenset):
        for item in value:
            yield from strings(item)


def customers(state: DesiredState) -> tuple[Customer, ...]:
    return state.customers


def built(raw: dict[str, Any], *, release: bool) -> DesiredState:
    return build_state([("f.yaml", raw, lambda i: (i + 1, 3))], release=release)


def test_with_release_the_model_keeps_none_of_the_datas_strings() -> None:
    """With `release`, the model's customers hold none of the data's strings, so the data's
    memory goes back whole once it is dropped; tag names and values are one string each, and
    customers with the same tags share one map."""
    raw = data()
    given = {id(text) for text in strings(raw)} & FRESH
    state = built(raw, release=True)
    kept = [text for text in strings(customers(state)) if id(text) in given]
    assert kept == []
    first, second, _ = state.customers
    assert first.tags == second.tags == {"team": "emea", "region": "fr"}
    assert first.tags is second.tags
    assert next(iter(first.tags)) is next(iter(second.tags))
    # the control: without release the model holds the data's strings
    raw = data()
    given = {id(text) for text in strings(raw)} & FRESH
    assert any(id(text) in given for text in strings(customers(built(raw, release=False))))


def test_release_builds_the_same_model() -> None:
    released, kept = built(data(), release=True), built(data(), release=False)
    assert released == kept
    assert [c.location for c in released.customers] == [c.location for c in kept.customers]
    first, _, third = released.customers
    assert (
        first.id == "abc" and first.state == "absent" and first.environments == frozenset({"test"})
    )
    assert first.overrides == {"test": {"tags": {"team": "emea", "region": "de"}}}
    assert first.expense_config is not None and first.expense_config.names == (
        ("supplier", "Amex"),
    )
    assert third.description is None and third.unprotect and not third.protect


def test_every_field_lands_where_its_name_says() -> None:
    """The builder passes a `Customer`'s fields by position: each value, all of them distinct
    from their defaults, is where a build by name puts it."""
    raw = {
        "uid": "cus-9",
        "name": "Nine",
        "description": "nine",
        "tags": {"k": "v"},
        "accounting": {"keep": True},
        "expenses": True,
        "expenseConfig": {"bankAccount": "b", "supplier": "s", "customer": "c"},
        "id": "ID-9",
        "protect": True,
        "state": "deleted",
        "environments": ["prod"],
        "overrides": {"prod": {"protect": False}},
    }
    state = build_state([("f.yaml", {"owner": "o", "customers": [raw]}, lambda i: (4, 5))])
    assert state.customers[0] == Customer(
        uid="cus-9",
        name="Nine",
        description="nine",
        tags={"k": "v"},
        accounting=None,
        expenses=True,
        expense_config=ExpenseConfig("b", "s", "c"),
        id="id-9",
        protect=True,
        unprotect=False,
        keep_accounting=True,
        state="deleted",
        location=Location("f.yaml", 4, 5),
        environments=frozenset({"prod"}),
        overrides={"prod": {"protect": False, "unprotect": True}},
    )
    assert state.customers[0].location == Location("f.yaml", 4, 5)  # not compared above
    # the booleans, each pattern of them once: no two can be swapped unseen
    others = [
        {"uid": "u", "name": "U", "protect": False, "accounting": "xero"},
        {"uid": "p", "name": "P", "protect": True, "accounting": "xero"},
    ]
    built = build_state([("f.yaml", {"owner": "o", "customers": others}, lambda i: (1, 1))])
    assert list(built.customers) == [
        Customer(uid="u", name="U", accounting="gbol", protect=False, unprotect=True),
        Customer(uid="p", name="P", accounting="gbol", protect=True),
    ]
