"""Expense config fully checked at plan time (issue 15, point 7): `supplier` and `customer` ids
are looked up in the company's data, one read each, only where the config would change."""

from __future__ import annotations

import re

from tests.runs.test_drift import World, customers, world

__all__ = ["world"]  # the fixture, shared with tests/runs/test_drift.py

REQUESTS = re.compile(r"Reading Codat: \d+ managed companies \((\d+) requests?\)")


def requests(result_stderr: str) -> int:
    found = REQUESTS.search(result_stderr)
    assert found, result_stderr
    return int(found.group(1))


def config(supplier: str, customer: str) -> dict[str, str]:
    return {"bankAccount": "89", "supplier": supplier, "customer": customer}


def test_unknown_supplier_or_customer_is_refused_with_how_to_find_valid_ids(world: World) -> None:
    fleet = customers(1)
    world.write(fleet)
    assert world.apply().returncode == 0
    world.authorize("cus-0001")
    assert world.apply().returncode == 0
    company_id = world.company("cus-0001")["id"]

    world.write(customers(1, expenseConfig=config("nope-999", "140")))
    refused = world.plan()
    assert refused.returncode == 2, refused.stdout + refused.stderr
    out = " ".join(refused.stdout.split())
    assert "supplier nope-999 is not in this company's QuickBooks Online data" in out
    assert f"GET /companies/{company_id}/data/suppliers" in out
    assert "customers" not in out.split("supplier nope-999", 1)[1].split("Codat portal")[0]
    # the account (every plan reads it), the company list, the live config, the mapping
    # options, one supplier, one customer read
    assert requests(refused.stderr) == 6
    applied = world.apply()
    assert "No changes can be applied, but 1 refused" in applied.stdout
    assert world.http.get(f"/companies/{company_id}/sync/expenses/config").status_code == 404

    world.write(customers(1, expenseConfig=config("124", "nope-1")))
    out = " ".join(world.plan().stdout.split())
    assert "customer nope-1 is not in this company's QuickBooks Online data" in out
    assert "/data/customers" in out

    world.write(customers(1, expenseConfig=config("124", "140")))
    assert world.apply().returncode == 0
    saved = world.http.get(f"/companies/{company_id}/sync/expenses/config").json()
    assert (saved["supplier"]["id"], saved["customer"]["id"]) == ("124", "140")
    steady = world.plan()
    assert steady.returncode == 0, steady.stdout
    # Unchanged config: no mapping, supplier or customer read (the account, list, config).
    assert requests(steady.stderr) == 3

    # Only the id that changes is read: a new customer, the supplier as it is.
    world.write(customers(1, expenseConfig=config("124", "141")))
    changed = world.plan()
    assert changed.returncode == 2 and "refused" not in changed.stdout.lower()
    assert requests(changed.stderr) == 5  # account, list, config, mapping options, the customer
