"""Rate limits on the real served sandbox: headers everywhere, the daily quota, the per-company
concurrency cap."""

from __future__ import annotations

import asyncio
import base64
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from reconcile.sandbox.store import Store
from tests.support.oas import assert_conforms
from tests.support.sandbox_server import serve_sandbox

HEADERS = ("X-Rate-Limit-Limit", "X-Rate-Limit-Remaining", "X-Rate-Limit-Reset")


def auth(name: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(name.encode()).decode()}


def next_midnight_utc() -> int:
    today = datetime.now(UTC).date()
    midnight = datetime(today.year, today.month, today.day, tzinfo=UTC) + timedelta(days=1)
    return int(midnight.timestamp())


def quota(response: httpx.Response) -> tuple[int, int, int]:
    return tuple(int(response.headers[h]) for h in HEADERS)  # type: ignore[return-value]


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "sandbox.db"


def test_headers_on_every_response_errors_included(db: Path) -> None:
    with (
        serve_sandbox(db, "--daily-quota", "50") as url,
        httpx.Client(base_url=url, headers=auth("headers-key"), timeout=10) as client,
    ):
        k = {"Idempotency-Key": str(uuid.uuid4())}
        responses = [
            client.post("/companies", json={"name": "Quota Ltd"}, headers=k),  # 200
            client.post("/companies", json={"name": "Quota Ltd"}, headers=k),  # replay
            client.post("/companies", json={"name": "Other"}, headers=k),  # 422
            client.get("/companies/does-not-exist"),  # 404
            client.post("/companies", json={"description": "no name"}),  # 400
            client.delete("/companies"),  # 405
        ]
        assert [r.status_code for r in responses] == [200, 200, 422, 404, 400, 405]
        remaining = [quota(r)[1] for r in responses]
        assert remaining == list(range(49, 43, -1))
        for r in responses:
            limit, _, reset = quota(r)
            assert limit == 50
            assert abs(reset - next_midnight_utc()) <= 1
        # The customer's Link pages are not the API: not counted, no headers.
        link = client.get("/link/companies/nope")
        assert link.status_code == 404 and "X-Rate-Limit-Limit" not in link.headers
        assert quota(client.get("/companies"))[1] == 43

    # A request without credentials is answered 401 with the headers as well.
    with serve_sandbox(db, "--daily-quota", "50") as url:
        anonymous = httpx.get(url + "/companies", timeout=10)
        assert anonymous.status_code == 401
        assert all(h in anonymous.headers for h in HEADERS)


def test_daily_quota_is_shared_by_processes_then_429(db: Path) -> None:
    with (
        serve_sandbox(db, "--daily-quota", "6") as a_url,
        serve_sandbox(db, "--daily-quota", "6") as b_url,
        httpx.Client(headers=auth("quota-key"), timeout=10) as client,
    ):
        statuses = [client.get(f"{url}/companies").status_code for url in (a_url, b_url) * 3]
        assert statuses == [200] * 6
        over = client.get(f"{a_url}/companies")
        assert over.status_code == 429
        assert quota(over)[:2] == (6, 0)
        retry_after = int(over.headers["Retry-After"])
        assert 0 < retry_after <= 86_400
        assert abs(time.time() + retry_after - next_midnight_utc()) <= 2
        assert_conforms("GET", "/companies", 429, over.json())
        # Another credential has its own quota.
        other = client.get(f"{b_url}/companies", headers=auth("another-key"))
        assert other.status_code == 200 and quota(other)[1] == 5


def _active(db: Path, count: int) -> None:
    """`count` companies with a Linked connection (Codat's active connected companies), and one
    awaiting authorization (not active)."""
    store = Store(db)
    try:
        for n in range(count):
            company = store.create_company(f"Active {n}")["id"]
            store.create_partner_expense_connection(company, "https://link.example")
        store.create_connection(store.create_company("Pending")["id"], "gbol", "https://l.example")
    finally:
        store.close()


@pytest.mark.parametrize(("active", "limit"), [(0, 1000), (9, 1000), (10, 1000), (25, 2500)])
def test_default_quota_is_codat_s_client_limit(db: Path, active: int, limit: int) -> None:
    """The greater of 1,000 and 100 per active connected company (Codat's "client-based
    limits"); the old reading, 1,000 x (1 + active), would say 26,000 for 25."""
    _active(db, active)
    with (
        serve_sandbox(db) as url,
        httpx.Client(base_url=url, headers=auth("formula-key"), timeout=10) as client,
    ):
        limit_seen, remaining, _ = quota(client.get("/companies"))
        assert (limit_seen, remaining) == (limit, limit - 1)


def test_concurrency_cap_per_company(db: Path) -> None:
    store = Store(db)
    busy = store.create_company("Busy Ltd")["id"]
    calm = store.create_company("Calm Ltd")["id"]
    store.close()

    async def burst(url: str) -> tuple[list[httpx.Response], list[httpx.Response]]:
        async with httpx.AsyncClient(base_url=url, headers=auth("cap-key"), timeout=10) as c:
            busy_calls = [c.get(f"/companies/{busy}") for _ in range(6)]
            calm_calls = [c.get(f"/companies/{calm}/connections") for _ in range(2)]
            results = await asyncio.gather(*busy_calls, *calm_calls)
            return list(results[:6]), list(results[6:])

    with serve_sandbox(
        db, "--concurrency-limit", "2", "--latency-ms", "600", "--daily-quota", "1000"
    ) as url:
        busy_results, calm_results = asyncio.run(burst(url))
        assert sorted(r.status_code for r in busy_results) == [200, 200, 429, 429, 429, 429]
        assert [r.status_code for r in calm_results] == [200, 200]  # another company: unaffected
        for r in busy_results:
            assert all(h in r.headers for h in HEADERS)
            if r.status_code == 429:
                assert r.headers["Retry-After"] == "1"
                assert_conforms("GET", f"/companies/{busy}", 429, r.json())
        # Once they are done, the company's slots are free again.
        with httpx.Client(base_url=url, headers=auth("cap-key"), timeout=10) as client:
            assert client.get(f"/companies/{busy}").status_code == 200
