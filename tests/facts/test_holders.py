"""Facts: a create named like the owner's company of another customer has that customer's uid
holders looked up too (reconcile.facts.holders.namesakes), in the same lookup, through the real
client and the sandbox; nothing more is read when no create shares a name."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconcile.model import OWNER_TAG, UID_TAG, Customer, DesiredState
from reconcile.sandbox.store import Store
from tests.facts.test_live import OWNER, lookup_requests


def populate(db: Path, managed: int = 0) -> dict[str, str]:
    """P ("Acme", the owner's, uid u1) and Q ("Acme", uid u1, its owner tag removed), three
    companies of nobody and `managed` more of the owner's. Returns "p"/"q" -> company id."""
    store = Store(db)
    try:
        store.create_companies((f"Other {i}", None, {}) for i in range(3))
        store.create_companies(
            (f"Managed {i}", None, {OWNER_TAG: OWNER, UID_TAG: f"m{i}"}) for i in range(managed)
        )
        p, q = store.create_companies(
            [("Acme", None, {OWNER_TAG: OWNER, UID_TAG: "u1"}), ("Acme", None, {UID_TAG: "u1"})]
        )
        return {"p": p, "q": q}
    finally:
        store.close()


def desired(*customers: tuple[str, str]) -> DesiredState:
    return DesiredState(OWNER, tuple(Customer(uid=u, name=n) for u, n in customers))


def test_a_create_named_like_another_customers_company_looks_up_its_uid(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    ids = populate(db)
    # Steady state: no create, nothing more read.
    assert lookup_requests(db, desired(("u1", "Acme"))) == (0, {})
    # Another name: only the create's uid is looked up (u1's untagged twin is not seen).
    assert lookup_requests(db, desired(("u1", "Acme"), ("u0", "Globex"))) == (1, {})
    # The same name (as identity compares names): u1 is looked up in the same lookup, which
    # takes the cheaper way, here the account's one page.
    found = lookup_requests(db, desired(("u1", "Acme"), ("u0", " ACME ")))
    assert found == (1, {"u1": [ids["q"]]})


@pytest.mark.slow
def test_the_extra_uid_costs_one_filtered_read_where_those_are_cheaper(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    ids = populate(db, managed=5_000)  # the owner's listing is two pages of 5,000
    listing = 2
    other = lookup_requests(db, desired(("u1", "Acme"), ("u0", "Globex")))
    assert other == (listing - 1 + 1, {})  # one filtered read, for u0
    same = lookup_requests(db, desired(("u1", "Acme"), ("u0", "Acme")))
    assert same == (listing - 1 + 2, {"u1": [ids["q"]]})  # one more, for u1
