"""The data Codat has read from a company's platform, on the served sandbox: `dataStatus` per
data type (fresh while it syncs, ageing once its syncs stop, FetchError where they fail or the
connection has an Active error), `POST .../data/all`, `/profile/syncSettings`, and suppliers,
customers and bank accounts deleted in the platform (`reconcile sandbox data-status` and
`delete-record`, real subprocesses on the served file). Every answer is checked against Codat's
official specs."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconcile.sandbox.store import Store
from reconcile.sandbox.store.datasets import DATA_TYPES
from tests.conftest import AUTH_HEADERS
from tests.sandbox import conforms, linked_company
from tests.sandbox.test_connection_errors import fails, ok
from tests.support.oas import request_errors
from tests.support.sandbox_server import serve_sandbox

# What Sync for Expenses needs: the data types the sandbox fetches on first link by default.
NEEDED = tuple(data_type for data_type, fetched in DATA_TYPES.items() if fetched)
UNKNOWN = "7a2e77e9-4e15-4300-83e1-657b7bf392a4"


def when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.fixture
def customer(codat: httpx.Client, sandbox_db: Path) -> dict[str, Any]:
    """A company with a unique uid and its Linked QuickBooks Online connection."""
    uid, company, connection = linked_company(
        codat, sandbox_db, name="Data Ltd", owner="data-team", prefix="data", platform="qhyg"
    )
    return {"uid": uid, "id": company["id"], "connection": connection["id"]}


def status(codat: httpx.Client, company_id: str) -> dict[str, Any]:
    return dict(conforms(codat.get(f"/companies/{company_id}/dataStatus"), 200))


def test_data_status_of_unknown_company_is_404(codat: httpx.Client) -> None:
    conforms(codat.get(f"/companies/{UNKNOWN}/dataStatus"), 404)
    conforms(codat.post(f"/companies/{UNKNOWN}/data/all"), 404)


def test_a_company_never_linked_has_no_data_and_nothing_to_refresh(codat: httpx.Client) -> None:
    company = conforms(codat.post("/companies", json={"name": "Unlinked Ltd"}), 200)
    assert status(codat, company["id"]) == {}
    conforms(codat.post(f"/companies/{company['id']}/data/all"), 404)


def test_linked_company_has_every_needed_data_type_fresh(
    codat: httpx.Client, customer: dict[str, Any]
) -> None:
    statuses = status(codat, customer["id"])
    now = datetime.now(UTC)
    for data_type in NEEDED:
        entry = statuses[data_type]
        assert entry["currentStatus"] == "Complete"
        assert now - when(entry["lastSuccessfulSync"]) < timedelta(days=1)
    assert "lastSuccessfulSync" not in statuses["invoices"]  # not fetched on first link


def test_stopped_syncs_age_and_a_refresh_brings_them_back(
    codat: httpx.Client, customer: dict[str, Any], sandbox_db: Path
) -> None:
    out = ok(
        "data-status", "--db", str(sandbox_db), "--uid", customer["uid"], "--stop",
        "--age-days", "80", "--data-type", "suppliers", "--data-type", "company",
    )  # fmt: skip
    assert "suppliers: Complete" in out
    statuses = status(codat, customer["id"])
    now = datetime.now(UTC)
    for data_type in ("suppliers", "company"):
        age = now - when(statuses[data_type]["lastSuccessfulSync"])
        assert timedelta(days=79) < age < timedelta(days=81)
    fresh = now - when(statuses["customers"]["lastSuccessfulSync"])
    assert fresh < timedelta(days=1)  # the others keep syncing on their schedule

    response = codat.post(f"/companies/{customer['id']}/data/all")
    conforms(response, 204)
    assert response.content == b""
    statuses = status(codat, customer["id"])
    for data_type in NEEDED:
        assert now - when(statuses[data_type]["lastSuccessfulSync"]) < timedelta(minutes=5)


def test_failing_syncs_and_connection_errors_are_fetch_errors(
    codat: httpx.Client, customer: dict[str, Any], sandbox_db: Path
) -> None:
    db, uid = str(sandbox_db), customer["uid"]
    ok(
        "data-status",
        "--db",
        db,
        "--uid",
        uid,
        "--fail",
        "--age-days",
        "3",
        "--data-type",
        "taxRates",
    )
    conforms(codat.post(f"/companies/{customer['id']}/data/all"), 204)
    statuses = status(codat, customer["id"])
    assert statuses["taxRates"]["currentStatus"] == "FetchError"
    age = datetime.now(UTC) - when(statuses["taxRates"]["lastSuccessfulSync"])
    assert age > timedelta(days=2)  # the refresh failed: the last success is unchanged
    assert statuses["suppliers"]["currentStatus"] == "Complete"  # control

    ok("data-status", "--db", db, "--uid", uid, "--succeed")
    ok("connection-error", "--db", db, "--uid", uid, "--message", "token expired")
    statuses = status(codat, customer["id"])
    assert {statuses[t]["currentStatus"] for t in NEEDED} == {"FetchError"}


def test_data_status_command_refuses_unknown_company(sandbox_db: Path) -> None:
    fails("data-status", "--db", str(sandbox_db), "--uid", "nobody-here", words=("no company",))


def test_deleted_records_are_gone_from_data_and_mapping_options(
    codat: httpx.Client, customer: dict[str, Any], sandbox_db: Path
) -> None:
    cid, db, uid = customer["id"], str(sandbox_db), customer["uid"]
    base = f"/companies/{cid}"
    conforms(codat.get(f"{base}/data/suppliers/124", headers={}), 200)  # control
    ok("delete-record", "--db", db, "--uid", uid, "--supplier", "124")
    ok("delete-record", "--db", db, "--uid", uid, "--customer", "140")
    ok("delete-record", "--db", db, "--uid", uid, "--bank-account", "89")
    conforms(codat.get(f"{base}/data/suppliers/124"), 404)
    conforms(codat.get(f"{base}/data/customers/140"), 404)
    listed = conforms(codat.get(f"{base}/data/suppliers"), 200)
    assert "124" not in {s["id"] for s in listed["results"]}
    assert "125" in {s["id"] for s in listed["results"]}
    options = conforms(codat.get(f"{base}/sync/expenses/mappingOptions", params={}), 200)
    assert "89" not in {a["id"] for a in options["accounts"]}
    assert "90" in {a["id"] for a in options["accounts"]}
    fails("delete-record", "--db", db, "--uid", uid, words=("exactly one",))


def test_store_data_ages_with_its_injected_clock(tmp_path: Path) -> None:
    now = [1_800_000_000.0]
    store = Store(tmp_path / "s.db", clock=lambda: now[0])
    try:
        company = store.create_company("Clocked")
        connection = store.create_connection(company["id"], "qhyg", "http://127.0.0.1")
        store.set_connection_status(company["id"], connection["id"], "Linked")
        first = store.data_status(company["id"])["suppliers"]["lastSuccessfulSync"]
        store.set_data_status(company["id"], data_types=["suppliers"], stopped=True)
        now[0] += 30 * 86_400
        after = store.data_status(company["id"])
        assert after["suppliers"]["lastSuccessfulSync"] == first  # stopped: it ages
        assert when(after["customers"]["lastSuccessfulSync"]) > when(first)  # daily schedule
        assert store.refresh_all(company["id"])
        refreshed = store.data_status(company["id"])["suppliers"]["lastSuccessfulSync"]
        assert when(refreshed) == datetime.fromtimestamp(now[0], UTC)
    finally:
        store.close()


@pytest.fixture
def own_codat(tmp_path: Path) -> Iterator[httpx.Client]:
    """A sandbox of its own: sync settings belong to the whole account."""
    with (
        serve_sandbox(tmp_path / "own.db") as url,
        httpx.Client(base_url=url, headers=AUTH_HEADERS, timeout=30) as client,
    ):
        yield client


def test_sync_settings_read_and_replaced(own_codat: httpx.Client) -> None:
    current = conforms(own_codat.get("/profile/syncSettings"), 200)
    assert [s["dataType"] for s in current["settings"]] == list(DATA_TYPES)
    settings = [dict(s) for s in current["settings"]]
    settings[4] = {**settings[4], "fetchOnFirstLink": False, "syncSchedule": 48}
    body = {**current, "settings": settings}
    assert not request_errors("POST", "/profile/syncSettings", body)
    response = own_codat.post("/profile/syncSettings", json=body)
    conforms(response, 204)
    again = conforms(own_codat.get("/profile/syncSettings"), 200)
    suppliers = next(s for s in again["settings"] if s["dataType"] == "suppliers")
    assert (suppliers["fetchOnFirstLink"], suppliers["syncSchedule"]) == (False, 48)


@pytest.mark.parametrize(
    "change",
    [
        {"settings": [{"dataType": "nope", "fetchOnFirstLink": True, "syncSchedule": 24,
                       "syncOrder": 0}]},
        {"settings": [{"dataType": "bills", "syncSchedule": 24, "syncOrder": 0}]},
        {"clientId": UNKNOWN},
        {"settings": "all"},
    ],
)  # fmt: skip
def test_bad_sync_settings_are_400(own_codat: httpx.Client, change: dict[str, Any]) -> None:
    current = conforms(own_codat.get("/profile/syncSettings"), 200)
    body = conforms(own_codat.post("/profile/syncSettings", json={**current, **change}), 400)
    assert body["validation"]["errors"]
    assert conforms(own_codat.get("/profile/syncSettings"), 200) == current
