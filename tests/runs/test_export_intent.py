"""Export keeps intent (issue 15, points 5 and 6): the live twin is the one written, customers
awaiting authorization keep `expenses: true` when it is intended, same-name untagged companies
are flagged. Pure: the real loader reads every file back."""

from __future__ import annotations

from pathlib import Path

from reconcile.model import Connection
from tests.runs.test_export import OWNER, export, managed
from tests.support.numbered import cid, company, conn


def partner(n: int, status: str = "Linked") -> Connection:
    return conn(n, status, key="expn", name="Partner Expense", source_type="Expense")


def test_the_twin_with_live_connections_is_written_even_if_newer_and_later_in_id_order(
    tmp_path: Path,
) -> None:
    empty = company(1, "Umbrella Books", managed("cus-5"), created="2026-01-01T00:00:00Z")
    live = company(
        2,
        "Umbrella Books",
        managed("cus-5"),
        conn(1, "Linked"),
        partner(2),
        created="2026-02-01T00:00:00Z",
    )
    text, warnings, state = export([empty, live], tmp_path)
    [customer] = state.customers
    assert (customer.accounting, customer.expenses) == ("gbol", True)
    assert f"this entry is {cid(2)} (created 2026-02-01T00:00:00Z; Linked Xero (gbol)" in text
    assert f"also {cid(1)} (created 2026-01-01T00:00:00Z; no active connections)" in text
    assert f"an empty twin of {cid(2)}" in text
    assert f"duplicate of {cid(2)}" not in text and "duplicate of" not in " ".join(warnings)


def test_two_live_twins_are_neither_called_a_duplicate(tmp_path: Path) -> None:
    older = company(1, "Globex", managed("g"), conn(1, "Linked"), created="2026-01-01T00:00:00Z")
    newer = company(2, "Globex", managed("g"), conn(2, "Linked"), created="2026-03-01T00:00:00Z")
    text, _, _ = export([newer, older], tmp_path)
    assert "this entry is " + cid(1) in text  # the oldest among live ones
    assert "two live companies for one customer; resolve by hand" in text
    assert "empty twin" not in text


def test_awaiting_authorization_keeps_expenses_when_the_fleet_uses_them(tmp_path: Path) -> None:
    fleet = [
        company(n, f"Linked {n}", managed(f"l{n}"), conn(n, "Linked"), partner(50 + n))
        for n in range(1, 4)
    ]
    pending = company(9, "Pending", managed("p"), conn(9, "PendingAuth"))
    text, warnings, state = export([*fleet, pending], tmp_path)
    by_uid = {c.uid: c for c in state.customers}
    assert by_uid["p"].expenses is True
    assert "# export: guess: expenses: true: awaiting authorization of Xero (gbol)" in text
    assert " of the " not in text  # no fleet-wide count in a comment
    assert "because 3 of the 3 Linked customers exported" in warnings[-1]
    assert any(w.startswith("p (company") for w in warnings)


def test_awaiting_authorization_says_why_expenses_is_false(tmp_path: Path) -> None:
    without = [company(n, f"L {n}", managed(f"l{n}"), conn(n, "Linked")) for n in range(1, 3)]
    pending = company(9, "Pending", managed("p"), conn(9, "PendingAuth"))
    unlinked = company(
        8,
        "Unl",
        managed("u"),
        conn(8, "PendingAuth"),
        partner(18, "Unlinked"),
    )
    deauthorized = company(
        7,
        "Deauth",
        managed("d"),
        conn(7, "PendingAuth"),
        partner(17, "Deauthorized"),
    )
    text, _, state = export([*without, pending, unlinked, deauthorized], tmp_path)
    by_uid = {c.uid: c for c in state.customers}
    assert (by_uid["p"].expenses, by_uid["u"].expenses, by_uid["d"].expenses) == (
        False,
        False,
        True,
    )
    assert "expenses: false: awaiting authorization of Xero (gbol) and no partner expense" in text
    assert "its partner expense connection was unlinked; write `expenses: true`" in text
    assert "expenses: true: its partner expense connection exists (Deauthorized)" in text


def test_same_name_untagged_companies_are_flagged_when_adopted(tmp_path: Path) -> None:
    a = company(1, "Initech Ledger", {}, conn(1, "Linked"), created="2026-01-01T00:00:00Z")
    b = company(2, "initech  ledger", {}, created="2026-01-02T00:00:00Z")
    other = company(3, "Hooli", {})
    text, warnings, state = export([a, b, other], tmp_path, adopt=True)
    assert {c.uid for c in state.customers} == {"initech-ledger", "initech-ledger-2", "hooli"}
    assert text.count('2 untagged companies are named "') == 2
    assert f"also uid initech-ledger-2: {cid(2)} (created 2026-01-02" in text
    assert f"also uid initech-ledger: {cid(1)} (created 2026-01-01T00:00:00Z; Linked Xero" in text
    assert sum("untagged companies are named" in w for w in warnings) == 2
    assert OWNER in text
