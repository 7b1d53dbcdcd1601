"""The text renderer formats what the planner decided, field by field."""

from __future__ import annotations

from reconcile.model import OWNER_TAG, UID_TAG, Company, Customer, DesiredState, LiveState
from reconcile.planner import make_plan
from reconcile.render.style import Style
from reconcile.render.text import render_plan


def test_update_shows_each_changed_field_and_tag() -> None:
    live = Company(
        id="c1",
        name="Globex",
        description=None,
        tags={"region": "uk", "old": "x", OWNER_TAG: "o", UID_TAG: "cus-1"},
    )
    wanted = Customer(uid="cus-1", name="Globex Ltd", description="d", tags={"region": "us"})
    text = render_plan(make_plan(DesiredState("o", (wanted,)), LiveState("o", (live,))))
    assert text.splitlines() == [
        '  # cus-1 "Globex Ltd" will be changed',
        "  ~ company c1  (differs from the file)",
        '      description: "" -> "d"',
        '      name: "Globex" -> "Globex Ltd"',
        '      tags.old: "x" -> (none)',
        '      tags.region: "uk" -> "us"',
        "",
        "Plan: 0 to create, 1 to update, 0 to unlink, 0 to delete.",
    ]


def test_no_changes_and_colour_only_when_asked() -> None:
    plan = make_plan(DesiredState("o", ()), LiveState("o", ()))
    assert render_plan(plan) == "No changes. Codat matches the file.\n"
    coloured = render_plan(plan, Style(enabled=True))
    assert coloured.startswith("\033[32m") and coloured.endswith("\033[0m\n")


def test_first_expense_config_shows_each_id() -> None:
    from reconcile.model import Connection, ExpenseConfig

    linked = Connection("a", "Accounting", "Xero", "Linked", "https://l", "2026-01-01", "gbol")
    live = Company("c1", "Acme", None, {OWNER_TAG: "o", UID_TAG: "cus-1"}, (linked,))
    wanted = Customer(
        uid="cus-1",
        name="Acme",
        accounting="gbol",
        expense_config=ExpenseConfig("89", "124", "140"),
    )
    plan = make_plan(
        DesiredState("o", (wanted,)), LiveState("o", (live,), expense_configs={"c1": None})
    )
    assert render_plan(plan).splitlines()[1:5] == [
        "  ~ set expense config  (no expense config yet)",
        '      bankAccount: (none) -> "89"',
        '      customer: (none) -> "140"',
        '      supplier: (none) -> "124"',
    ]
