"""One-time Link URLs (`sandbox serve --one-time-links`): a fresh link on each read of the
connection, each working once, within a day by the sandbox's injected clock."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconcile.sandbox.app import create_app
from reconcile.sandbox.options import SandboxOptions
from tests.support.sandbox_server import serve_sandbox
from tests.support.virtual_time import SetClock

AUTH = {"Authorization": "Basic b25lLXRpbWUtdGVzdA=="}
BASE = "http://127.0.0.1:8765"
DAY = 86_400.0
_TOKEN = re.compile(r'name="token" value="([0-9a-f]+)"')


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _app(tmp_path: Path, clock: Callable[[], float], *, one_time: bool) -> Any:
    options = SandboxOptions(
        db_path=tmp_path / "sandbox.db", daily_quota=None, one_time_links=one_time
    )
    return create_app(options, clock=clock)


async def _pending(api: httpx.AsyncClient) -> tuple[str, str]:
    company = (await api.post("/companies", json={"name": "Once Ltd"})).json()
    connection = (
        await api.post(f"/companies/{company['id']}/connections", json={"platformKey": "gbol"})
    ).json()
    return company["id"], connection["id"]


async def _link(api: httpx.AsyncClient, company_id: str, connection_id: str) -> str:
    answer = await api.get(f"/companies/{company_id}/connections/{connection_id}")
    return str(answer.json()["linkUrl"])


@pytest.fixture
async def clock() -> AsyncIterator[SetClock]:
    yield SetClock(1_800_000_000.0)


@pytest.mark.anyio
async def test_each_read_gives_a_fresh_link_that_works_once(
    tmp_path: Path, clock: SetClock
) -> None:
    app = _app(tmp_path, clock, one_time=True)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE, headers=AUTH) as api:
        company_id, connection_id = await _pending(api)
        first, second = [await _link(api, company_id, connection_id) for _ in range(2)]
        listed = (await api.get(f"/companies/{company_id}")).json()["dataConnections"][0]
        assert len({first, second, listed["linkUrl"]}) == 3  # fresh on each read
        assert all("?ticket=" in url for url in (first, second, listed["linkUrl"]))

    async with httpx.AsyncClient(transport=transport, base_url=BASE) as customer:
        opened = await customer.get(first)
        assert opened.status_code == 303  # used up now; the session cookie opens the page
        page = await customer.get(opened.headers["location"])
        assert page.status_code == 200 and ">Authorize</button>" in page.text
        assert "ticket" not in opened.headers["location"]
        token = _TOKEN.search(page.text)
        assert token is not None
        start = opened.headers["location"]
        done = await customer.post(
            start.removesuffix("/start") + "/authorize", data={"token": token.group(1)}
        )
        assert done.status_code == 303
        assert "Access granted" in (await customer.get(done.headers["location"])).text

    async with httpx.AsyncClient(transport=transport, base_url=BASE) as someone_else:
        again = await someone_else.get(first)
        assert again.status_code == 410 and "already used" in again.text
        bare = await someone_else.get(first.split("?")[0])
        assert bare.status_code == 410  # no ticket, no session: not opened


@pytest.mark.anyio
async def test_a_link_expires_after_a_day(tmp_path: Path, clock: SetClock) -> None:
    transport = httpx.ASGITransport(app=_app(tmp_path, clock, one_time=True))
    async with httpx.AsyncClient(transport=transport, base_url=BASE, headers=AUTH) as api:
        company_id, connection_id = await _pending(api)
        almost = await _link(api, company_id, connection_id)
        stale = await _link(api, company_id, connection_id)
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as customer:
        clock.now += DAY - 1
        assert (await customer.get(almost)).status_code == 303  # within the day: works
        clock.now += 2
        expired = await customer.get(stale)
        assert expired.status_code == 410 and "expired" in expired.text


@pytest.mark.anyio
async def test_without_the_flag_links_are_stable_and_need_no_ticket(
    tmp_path: Path, clock: SetClock
) -> None:
    """The control: the default sandbox answers the stored linkUrl every time."""
    transport = httpx.ASGITransport(app=_app(tmp_path, clock, one_time=False))
    async with httpx.AsyncClient(transport=transport, base_url=BASE, headers=AUTH) as api:
        company_id, connection_id = await _pending(api)
        first, second = [await _link(api, company_id, connection_id) for _ in range(2)]
        assert first == second and "ticket" not in first
        clock.now += 10 * DAY
        assert (await api.get(first)).status_code == 200


def test_one_time_links_on_the_wire(tmp_path: Path) -> None:
    """`sandbox serve --one-time-links`, served on loopback."""
    with (
        serve_sandbox(tmp_path / "sandbox.db", "--one-time-links") as url,
        httpx.Client(base_url=url, headers=AUTH, timeout=10) as api,
    ):
        company = api.post("/companies", json={"name": "Wire Once"}).json()
        path = f"/companies/{company['id']}/connections"
        created = api.post(path, json={"platformKey": "gbol"}).json()
        fresh = api.get(f"{path}/{created['id']}").json()["linkUrl"]
        assert fresh != created["linkUrl"] and "?ticket=" in fresh
        with httpx.Client(timeout=10, follow_redirects=True) as customer:
            assert customer.get(fresh).status_code == 200
            assert "already used" in customer.get(fresh).text
