"""Expense config by name (issue 26) on the served sandbox, through real `reconcile` runs: the
plan resolves `{name: ...}` against the company's mapping options and data and shows
`name -> id`; a saved plan keeps the ids it resolved and applies them; once set, the same names
plan nothing; an unknown or ambiguous name is refused with the candidates."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from reconcile.sandbox.store import Store
from tests.conftest import AUTH_HEADERS
from tests.plans.file.saved_support import reconcile, unique_owner

BY_NAME = """\
    expenseConfig:
      bankAccount: {{name: "Business Current Account"}}
      supplier: {{name: "Prestige Hotels"}}
      customer: {{name: {customer}}}
"""


def file_for(path: Path, owner: str, customer: str | None = None) -> Path:
    config = BY_NAME.format(customer=json.dumps(customer)) if customer is not None else ""
    path.write_text(
        f"version: 1\nowner: {owner}\ncustomers:\n"
        f"  - uid: {owner}-1\n    name: Named Ltd\n    accounting: xero\n    expenses: true\n"
        + config
    )
    return path


def linked_customer(tmp_path: Path, url: str, db: Path) -> tuple[str, str]:
    """A customer applied and authorized: (owner, company id)."""
    owner = unique_owner("named")
    plain = file_for(tmp_path / "plain.yaml", owner)
    assert reconcile("apply", str(plain), "--auto-approve", url=url).returncode == 0
    store = Store(db)
    try:
        (company,) = store.find_companies_by_tag("reconcile.uid", f"{owner}-1")
        connection = company["dataConnections"][0]
        store.set_connection_status(company["id"], connection["id"], "Linked")
    finally:
        store.close()
    return owner, str(company["id"])


def test_names_resolve_show_and_a_saved_plan_keeps_the_ids(
    tmp_path: Path, sandbox_url: str, sandbox_db: Path
) -> None:
    owner, company_id = linked_customer(tmp_path, sandbox_url, sandbox_db)
    named = file_for(tmp_path / "named.yaml", owner, "Soylent Wholesale")
    text = reconcile("plan", str(named), url=sandbox_url)
    assert text.returncode == 0, text.stderr
    assert 'supplier "Prestige Hotels" -> 126' in text.stdout
    assert 'bank account "Business Current Account" -> 89' in text.stdout

    out = tmp_path / "named.plan"
    saved = reconcile("plan", str(named), "--out", str(out), url=sandbox_url)
    assert saved.returncode == 0, saved.stderr
    [config] = [
        a
        for change in json.loads(out.read_text())["changes"]
        for a in change["actions"]
        if a["kind"] == "set_expense_config"
    ]
    wire = {"bankAccount": {"id": "89"}, "supplier": {"id": "126"}, "customer": {"id": "148"}}
    assert config["request"]["body"] == wire
    applied = reconcile("apply", "--plan", str(out), str(named), "--auto-approve", url=sandbox_url)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    with httpx.Client(base_url=sandbox_url, headers=AUTH_HEADERS) as codat:
        live = codat.get(f"/companies/{company_id}/sync/expenses/config").json()
    assert live == wire

    again = reconcile("plan", str(named), "--detailed-exitcode", url=sandbox_url)
    assert again.returncode == 0, again.stdout  # the names resolve to what is set: no change


def test_unknown_and_ambiguous_names_are_refused_with_candidates(
    tmp_path: Path, sandbox_url: str, sandbox_db: Path
) -> None:
    owner, _ = linked_customer(tmp_path, sandbox_url, sandbox_db)
    unknown = file_for(tmp_path / "unknown.yaml", owner, "Nobody Ltd")
    result = reconcile("plan", str(unknown), "--detailed-exitcode", url=sandbox_url)
    assert result.returncode == 2, result.stdout + result.stderr
    assert 'no customer is named "Nobody Ltd"; candidates: "Card Spend Clearing" (140)' in (
        result.stdout
    )
    # Core customer 140 and the first extra share the name "Card Spend Clearing".
    ambiguous = file_for(tmp_path / "ambiguous.yaml", owner, "card spend clearing")
    result = reconcile("plan", str(ambiguous), "--format", "json", url=sandbox_url)
    doc = json.loads(result.stdout)
    [refusal] = doc["refused"]
    assert (
        'customers are named "card spend clearing" ("Card Spend Clearing" (140)'
        in (refusal["reason"])
    )
    assert "write the one meant by its id" in refusal["reason"]
    assert not [
        a for c in doc["changes"] for a in c["actions"] if a["kind"] == "set_expense_config"
    ]
