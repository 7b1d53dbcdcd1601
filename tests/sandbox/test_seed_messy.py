"""`sandbox seed --messy`: the messy fleets issue 15 is about, served as Codat would serve them."""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconcile.sandbox.registry import OWNER_TAG, UID_TAG
from reconcile.sandbox.seed.messy import MESSY_KINDS, seed_messy
from reconcile.sandbox.store import Store
from tests.conftest import AUTH_HEADERS
from tests.sandbox import conforms
from tests.support.cli import run_sandbox
from tests.support.sandbox_server import serve_sandbox


@pytest.fixture(scope="module")
def messy_companies(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """A population of 100 with `--messy` (two groups), read back over the served API."""
    db = tmp_path_factory.mktemp("messy") / "messy.db"
    seeded = run_sandbox(
        "seed", "--db", str(db), "--companies", "100", "--owner", "ops", "--messy", timeout=120
    )
    assert seeded.returncode == 0, seeded.stderr
    for kind in MESSY_KINDS:
        assert f"2 {kind}" in seeded.stdout
    with (
        serve_sandbox(db) as url,
        httpx.Client(base_url=url, headers=AUTH_HEADERS, timeout=30) as codat,
    ):
        body = conforms(codat.get("/companies", params={"pageSize": 5000}), 200)
    assert body["totalResults"] == 100 + 2 * 8
    return list(body["results"])


def _active_accounting(company: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        c
        for c in company["dataConnections"]
        if c["sourceType"] == "Accounting" and c["status"] in ("Linked", "PendingAuth")
    ]


def test_platforms_outside_sync_for_expenses(messy_companies: list[dict[str, Any]]) -> None:
    keys = Counter(
        (c["integrationKey"], c["sourceType"], c["status"])
        for company in messy_companies
        for c in company["dataConnections"]
    )
    assert keys[("hbql", "Accounting", "Linked")] == 2
    assert keys[("dfxm", "Banking", "Linked")] == 2
    assert keys[("shpf", "Commerce", "PendingAuth")] == 2
    assert keys[("strp", "Commerce", "Linked")] == 2


def test_two_active_accounting_connections(messy_companies: list[dict[str, Any]]) -> None:
    doubled = [c for c in messy_companies if len(_active_accounting(c)) == 2]
    assert len(doubled) == 2
    for company in doubled:
        assert {c["integrationKey"] for c in _active_accounting(company)} == {"gbol", "qhyg"}
        assert OWNER_TAG in company["tags"]


def test_duplicate_uids_older_twin_is_the_live_one(messy_companies: list[dict[str, Any]]) -> None:
    by_uid: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for company in messy_companies:
        if UID_TAG in company["tags"]:
            by_uid[company["tags"][UID_TAG]].append(company)
    twins = [group for group in by_uid.values() if len(group) > 1]
    assert len(twins) == 2
    for older, newer in (sorted(t, key=lambda c: c["created"]) for t in twins):
        assert older["name"] == newer["name"] and older["tags"] == newer["tags"]
        assert {c["status"] for c in older["dataConnections"]} == {"Linked"}
        assert newer["dataConnections"] == []


def test_same_name_untagged(messy_companies: list[dict[str, Any]]) -> None:
    names = Counter(c["name"] for c in messy_companies if not c["tags"])
    assert sum(1 for n in names.values() if n == 2) >= 2


def test_deauthorized_with_errors(messy_companies: list[dict[str, Any]]) -> None:
    found = [
        c
        for company in messy_companies
        for c in company["dataConnections"]
        if c["status"] == "Deauthorized"
        and [e["status"] for e in c.get("dataConnectionErrors", ())] == ["Resolved", "Active"]
    ]
    assert len(found) >= 2
    assert all(c["dataConnectionErrors"][1]["statusCode"] == "401" for c in found)


def test_messy_is_deterministic_and_never_reuses_a_uid(tmp_path: Path) -> None:
    db = tmp_path / "twice.db"
    first = seed_messy(db, ("a", "b"), groups=3, seed=4)
    second = seed_messy(db, ("a", "b"), groups=3, seed=4)
    assert first == second
    assert first["companies"] == 3 * 8
    store = Store(db)
    try:
        companies, _ = store.list_companies(page_size=5000)
    finally:
        store.close()
    uids = Counter(c["tags"][UID_TAG] for c in companies if UID_TAG in c["tags"])
    # Only the duplicate-uid kind shares a uid, once per group and seeding.
    assert sorted(n for n in uids.values() if n > 1) == [2] * 6
