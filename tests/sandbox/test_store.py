"""The SQLite store on its own: real files, no server."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconcile.sandbox.store import COMPANY_FIELDS, Conflict, NotFound, Store, UnknownPlatform
from reconcile.sandbox.store.filters import Condition, Ordering, parse_query, parse_tags

BASE = "http://127.0.0.1:9"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "nested" / "sandbox.db")
    yield s
    s.close()


def test_creates_parent_dir_and_uses_wal(store: Store) -> None:
    assert store.db_path.exists()
    with sqlite3.connect(store.db_path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_company_round_trip(store: Store) -> None:
    company = store.create_company("Acme", "desc", {"k": "v"}, link_base_url=BASE)
    assert company == store.get_company(company["id"])
    assert company["redirect"] == f"{BASE}/link/companies/{company['id']}"
    fields = (company["name"], company["description"], company["tags"])
    assert fields == ("Acme", "desc", {"k": "v"})
    assert company["products"] == [] and company["dataConnections"] == []
    assert company["created"].endswith("Z")
    assert "description" not in store.create_company("No description")


def test_state_survives_reopening(tmp_path: Path) -> None:
    first = Store(tmp_path / "s.db")
    company = first.create_company("Durable")
    first.close()
    second = Store(tmp_path / "s.db")
    assert second.get_company(company["id"]) == company
    second.close()


def test_find_companies_by_tag(store: Store) -> None:
    a = store.create_company("A", None, {"reconcile.uid": "u1"})
    store.create_company("B", None, {"reconcile.uid": "u2"})
    assert [c["id"] for c in store.find_companies_by_tag("reconcile.uid", "u1")] == [a["id"]]
    assert store.find_companies_by_tag("reconcile.uid", "nobody") == []


def test_update_company_changes_only_given_fields(store: Store) -> None:
    company = store.create_company("Old", "d", {"a": "1"})
    renamed = store.update_company(company["id"], name="New")
    assert (renamed["name"], renamed["description"], renamed["tags"]) == ("New", "d", {"a": "1"})
    retagged = store.update_company(company["id"], tags={"b": "2"}, description=None)
    assert "description" not in retagged and retagged["tags"] == {"b": "2"}
    assert store.find_companies_by_tag("a", "1") == []
    with pytest.raises(NotFound):
        store.update_company("missing", name="x")


def test_delete_company_cascades(store: Store) -> None:
    company = store.create_company("Doomed")
    connection = store.create_connection(company["id"], "gbol", BASE)
    store.set_expense_config(company["id"], {"bankAccount": {"id": "89"}})
    assert store.delete_company(company["id"]) is True
    assert store.get_connection(company["id"], connection["id"]) is None
    assert store.get_expense_config(company["id"]) is None
    assert store.delete_company(company["id"]) is False


def test_connections_and_their_rules(store: Store) -> None:
    company = store.create_company("Conn")
    with pytest.raises(UnknownPlatform):
        store.create_connection(company["id"], "nope", BASE)
    with pytest.raises(NotFound):
        store.create_connection("missing", "gbol", BASE)
    connection = store.create_connection(company["id"], "trji", BASE)
    assert connection["platformName"] == "Dynamics 365 Business Central"
    assert connection["linkUrl"].startswith(f"{BASE}/link/companies/{company['id']}/connections/")
    with pytest.raises(Conflict):
        store.create_connection(company["id"], "gbol", BASE)
    with pytest.raises(Conflict):
        store.unlink_connection(company["id"], connection["id"])
    store.set_connection_status(company["id"], connection["id"], "Linked")
    assert store.linked_accounting_platform(company["id"]) == "trji"
    assert store.unlink_connection(company["id"], connection["id"])["status"] == "Unlinked"
    assert store.create_connection(company["id"], "gbol", BASE)["status"] == "PendingAuth"
    with pytest.raises(ValueError):
        store.set_connection_status(company["id"], connection["id"], "Sideways")
    with pytest.raises(NotFound):
        store.set_connection_status(company["id"], "missing", "Linked")


def test_partner_expense_connection_is_get_or_create(store: Store) -> None:
    company = store.create_company("Exp")
    first = store.create_partner_expense_connection(company["id"], BASE)
    assert (first["status"], first["sourceType"]) == ("Linked", "Expense")
    assert store.create_partner_expense_connection(company["id"], BASE) == first


def test_count_active_companies(store: Store) -> None:
    assert store.count_active_companies() == 0
    a, b = store.create_company("A"), store.create_company("B")
    pending = store.create_connection(a["id"], "gbol", BASE)
    assert store.count_active_companies() == 0
    store.set_connection_status(a["id"], pending["id"], "Linked")
    store.create_partner_expense_connection(a["id"], BASE)
    store.create_partner_expense_connection(b["id"], BASE)
    assert store.count_active_companies() == 2


def test_omit_integration_key(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db", omit_integration_key=True)
    company = store.create_company("Omit")
    assert "integrationKey" not in store.create_connection(company["id"], "gbol", BASE)
    store.close()


def test_transaction_is_atomic_and_joins_nested_calls(store: Store) -> None:
    with pytest.raises(RuntimeError), store.transaction():
        store.create_company("Rolled back")
        raise RuntimeError
    assert store.count_companies() == 0
    with store.transaction():
        store.create_company("One")
        store.create_company("Two")
    assert store.count_companies() == 2


def test_bulk_create_and_list_pages(store: Store) -> None:
    ids = store.create_companies((f"Co {i:03}", None, {"n": str(i % 3)}) for i in range(250))
    page, total = store.list_companies(page=2, page_size=100)
    assert total == 250 and [c["id"] for c in page] == ids[100:200]
    zeros, total = store.list_companies(tags=parse_tags("n=0"), page_size=5000)
    assert total == 84 and {c["tags"]["n"] for c in zeros} == {"0"}
    last, _ = store.list_companies(order=Ordering("name", descending=True), page_size=1)
    assert last[0]["name"] == "Co 249"


def test_like_filters_escape_wildcards(store: Store) -> None:
    store.create_company("100% Real", None, {"t": "a_b"})
    store.create_company("100 Real", None, {"t": "axb"})
    by_name, _ = store.list_companies(query=parse_query("name~1%R", COMPANY_FIELDS))
    assert [c["name"] for c in by_name] == []
    by_tag, _ = store.list_companies(tags=(Condition("t", "~", "_"),))
    assert [c["tags"]["t"] for c in by_tag] == ["a_b"]
