"""Where each declared customer stands in the onboarding funnel, from one read of Codat."""

from __future__ import annotations

from reconcile.facts.onboarding import after_pass, onboarding
from reconcile.model import (
    Company,
    Connection,
    ConnectionError_,
    DesiredState,
    LiveState,
)
from tests.support.factories import CONFIG, EXPENSE_KEY, company, conn, customer

OWNER = "funnel"


def _company(uid: str, *connections: Connection) -> Company:
    return company(uid, *connections, id=f"id-{uid}", name=uid.title(), owner=OWNER)


def _xero(status: str, *errors: ConnectionError_) -> Connection:
    return conn("c-1", status, "gbol", created="2026-01-01T00:00:00Z", errors=errors)


EXPENSE = conn("c-2", "Linked", EXPENSE_KEY, created="2026-01-02T00:00:00Z")


def test_every_stage() -> None:
    uids = ("none", "nocon", "pending", "gone", "linked", "partner", "done", "absent")
    customers = tuple(
        customer(uid, uid.title(), state="absent" if uid == "absent" else "present") for uid in uids
    )
    error = ConnectionError_("401", "Unauthorized", "token revoked", "2026-02-01T00:00:00Z")
    live = LiveState(
        OWNER,
        (
            _company("nocon"),
            _company("pending", _xero("PendingAuth")),
            _company("gone", _xero("Deauthorized", error)),
            _company("linked", _xero("Linked")),
            _company("partner", _xero("Linked"), EXPENSE),
            _company("done", _xero("Linked"), EXPENSE),
        ),
        expense_configs={"id-done": CONFIG, "id-partner": None},
    )
    rows = {r.uid: r for r in onboarding(DesiredState(OWNER, customers), live)}
    assert "absent" not in rows  # an entry that leaves is not in the funnel
    assert {uid: r.stage for uid, r in rows.items()} == {
        "none": "declared",
        "nocon": "declared",
        "pending": "awaiting",
        "gone": "reauthorization",
        "linked": "authorized",
        "partner": "partner_connection",
        "done": "configured",
    }
    assert rows["pending"].since == "2026-01-01T00:00:00Z" and rows["pending"].platform == "Xero"
    assert rows["gone"].since == "2026-02-01T00:00:00Z" and rows["gone"].error == "token revoked"


def test_after_the_pass_its_own_actions_move_customers_on() -> None:
    customers = (customer("a", "A"), customer("b", "B"))
    live = LiveState(OWNER, (_company("a", _xero("Linked")), _company("b", _xero("PendingAuth"))))
    rows = onboarding(DesiredState(OWNER, customers), live)
    moved = after_pass(
        rows,
        {
            "a": frozenset({"create_partner_expense", "set_expense_config"}),
            "b": frozenset({"set_expense_config"}),  # not authorized: stays where it is
        },
    )
    assert [r.stage for r in moved] == ["configured", "awaiting"]
