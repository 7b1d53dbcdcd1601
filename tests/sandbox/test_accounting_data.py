"""`/companies/{companyId}/data/suppliers|customers[/{id}]`, checked against Codat's Sync for
Expenses spec through the served sandbox."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconcile.sandbox.store import Store
from reconcile.sandbox.store.accounting_data import CORE_CUSTOMER_IDS, CORE_SUPPLIER_IDS
from tests.sandbox import conforms


@pytest.fixture
def company(codat: httpx.Client) -> dict[str, Any]:
    return dict(codat.post("/companies", json={"name": "Data Co"}).json())


@pytest.fixture
def linked(codat: httpx.Client, sandbox_db: Path, company: dict[str, Any]) -> dict[str, Any]:
    connection = codat.post(
        f"/companies/{company['id']}/connections", json={"platformKey": "gbol"}
    ).json()
    store = Store(sandbox_db)
    try:
        store.set_connection_status(company["id"], connection["id"], "Linked")
    finally:
        store.close()
    return company


@pytest.mark.parametrize(("kind", "core"), [("suppliers", "124"), ("customers", "140")])
def test_get_one_by_id(codat: httpx.Client, linked: dict[str, Any], kind: str, core: str) -> None:
    body = conforms(codat.get(f"/companies/{linked['id']}/data/{kind}/{core}"), 200)
    assert body["id"] == core and body["status"] == "Active"
    name = body["supplierName" if kind == "suppliers" else "customerName"]
    assert isinstance(name, str) and name


@pytest.mark.parametrize("kind", ["suppliers", "customers"])
def test_unknown_id_is_404(codat: httpx.Client, linked: dict[str, Any], kind: str) -> None:
    body = conforms(codat.get(f"/companies/{linked['id']}/data/{kind}/nope-999"), 404)
    assert "nope-999" in body["error"]


@pytest.mark.parametrize("kind", ["suppliers", "customers"])
def test_without_a_linked_accounting_connection_nothing_was_read(
    codat: httpx.Client, company: dict[str, Any], kind: str
) -> None:
    conforms(codat.get(f"/companies/{company['id']}/data/{kind}/124"), 404)
    conforms(codat.get(f"/companies/{uuid.uuid4()}/data/{kind}/124"), 404)


@pytest.mark.parametrize(
    ("kind", "core"), [("suppliers", CORE_SUPPLIER_IDS), ("customers", CORE_CUSTOMER_IDS)]
)
def test_list_pages_hold_the_core_and_the_company_s_own(
    codat: httpx.Client, linked: dict[str, Any], kind: str, core: tuple[str, ...]
) -> None:
    path = f"/companies/{linked['id']}/data/{kind}"
    whole = conforms(codat.get(path, params={"pageSize": 100}), 200)
    ids = [r["id"] for r in whole["results"]]
    assert ids[: len(core)] == list(core) and len(ids) > len(core)
    assert whole["totalResults"] == len(ids)
    second = conforms(codat.get(path, params={"page": 2, "pageSize": 5}), 200)
    assert [r["id"] for r in second["results"]] == ids[5:10]
    again = conforms(codat.get(path, params={"pageSize": 100}), 200)
    assert again == whole  # deterministic per company
