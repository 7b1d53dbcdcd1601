"""The convergence property's example, end to end on a served sandbox with real `reconcile`
subprocesses: a copied uid tag and a removed owner tag leave a customer's company carrying
another customer's uid; the next plan creates nothing and says which companies to look at."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reconcile.model import OWNER_TAG, UID_TAG
from reconcile.sandbox.store import Store
from tests.support.cli import codat_env, reconcile
from tests.support.sandbox_server import serve_sandbox

OWNER = "prop"
pytestmark = pytest.mark.slow


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path, Path]]:
    """(the sandbox's URL, its database, a file of two customers both named "Acme")."""
    db = tmp_path / "sandbox.db"
    file = tmp_path / "customers.yaml"
    file.write_text(
        f"version: 1\nowner: {OWNER}\ncustomers:\n"
        "  - {uid: u0, name: Acme}\n  - {uid: u1, name: Acme}\n"
    )
    with serve_sandbox(db, "--daily-quota", "10000000") as url:
        yield url, db, file


def run(url: str, *args: str) -> str:
    result = reconcile(*args, env=codat_env(url), timeout=180)
    assert result.returncode == 0 and "Traceback" not in result.stderr, result
    return result.stdout


def companies(db: Path) -> dict[str, dict[str, Any]]:
    """The owner's companies by uid, as Codat's portal shows them."""
    store = Store(db)
    try:
        listed, _ = store.list_companies(page_size=100)
        return {c["tags"][UID_TAG]: c for c in listed if c["tags"].get(OWNER_TAG) == OWNER}
    finally:
        store.close()


def test_a_copied_uid_tag_and_a_removed_owner_tag_create_nothing(
    served: tuple[str, Path, Path],
) -> None:
    url, db, file = served
    run(url, "apply", str(file), "--auto-approve")
    applied = companies(db)
    p, q = applied["u0"], applied["u1"]
    store = Store(db)  # the portal: P's uid tag set to u1, Q's owner tag removed
    try:
        store.update_company(p["id"], tags={**p["tags"], UID_TAG: "u1"})
        store.update_company(q["id"], tags={UID_TAG: "u1"})
    finally:
        store.close()

    doc = json.loads(run(url, "plan", str(file), "--format", "json"))
    assert doc["changes"] == [], doc["changes"]  # no company created for u0
    reasons: dict[str, list[str]] = {}
    for refusal in doc["refused"]:
        reasons.setdefault(refusal["uid"], []).append(refusal["reason"])
    assert set(reasons) == {"u0", "u1"}, reasons
    (duplicate,) = reasons["u1"]
    assert f"2 companies carry {UID_TAG}=u1" in duplicate, duplicate
    assert p["id"] in duplicate and q["id"] in duplicate, duplicate
    said = " ".join(reasons["u0"])
    assert "looks like this customer's company with an edited uid tag" in said, said
    assert p["id"] in said and q["id"] in said, said
