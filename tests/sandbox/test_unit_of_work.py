"""One SQLite transaction per request (reconcile/sandbox/store/unit.py), counted on the wire to
SQLite: every connection the sandbox opens is traced, and each request's writes and commits are
counted. Control: an inner app that does not join the request's transaction makes the layers
commit before it runs, and the count sees it."""

from __future__ import annotations

import base64
import sqlite3
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconcile.sandbox.api.common import call as store_call
from reconcile.sandbox.app import create_core
from reconcile.sandbox.layers.stack import wrap
from reconcile.sandbox.options import SandboxOptions
from reconcile.sandbox.store import Store
from reconcile.sandbox.store.unit import Unit, enter, leave

AUTH = {"Authorization": "Basic " + base64.b64encode(b"unit-of-work-key").decode()}
WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@dataclass
class Trace:
    """Statements sent to SQLite by every connection opened while tracing, by connection."""

    statements: list[tuple[int, str]] = field(default_factory=list)

    def clear(self) -> None:
        self.statements.clear()

    def commits(self) -> int:
        return sum(1 for _, sql in self.statements if sql.strip().upper() == "COMMIT")

    def writers(self) -> set[int]:
        """The connections that wrote a row."""
        return {c for c, sql in self.statements if sql.lstrip().upper().startswith(WRITES)}


@pytest.fixture
def trace(monkeypatch: pytest.MonkeyPatch) -> Iterator[Trace]:
    found = Trace()
    real_connect = sqlite3.connect

    def traced_connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        conn = real_connect(*args, **kwargs)
        number = id(conn)

        def note(sql: str) -> None:
            found.statements.append((number, sql))

        conn.set_trace_callback(note)
        return conn

    monkeypatch.setattr(sqlite3, "connect", traced_connect)
    yield found


def options_at(tmp_path: Path) -> SandboxOptions:
    db = tmp_path / "unit.db"
    return replace(SandboxOptions.in_process(db, {}), daily_quota=1000)


def company_names(db: Path) -> list[str]:
    conn = sqlite3.connect(db)
    try:
        return [row[0] for row in conn.execute("SELECT name FROM companies ORDER BY name")]
    finally:
        conn.close()


def client_for(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1", headers=AUTH
    )


@pytest.mark.anyio
async def test_each_request_commits_once(tmp_path: Path, trace: Trace) -> None:
    options = options_at(tmp_path)
    app = wrap(create_core(options), options, joins_unit=True)
    async with client_for(app) as client:
        created = await client.post("/companies", json={"name": "Plain Ltd"})
        assert created.status_code == 200
        company_id = created.json()["id"]

        trace.clear()  # an unkeyed POST: the count and the company in one transaction
        assert (await client.post("/companies", json={"name": "Second Ltd"})).status_code == 200
        assert trace.commits() == 1 and len(trace.writers()) == 1

        trace.clear()  # a GET: the count, and the read inside the same transaction
        assert (await client.get(f"/companies/{company_id}")).status_code == 200
        assert trace.commits() == 1 and len(trace.writers()) == 1

        trace.clear()  # a keyed POST: the count, the key's claim, the company, its webhook
        # outbox row and the stored answer together (it never waits with the claim open)
        keyed = {"Idempotency-Key": str(uuid.uuid4())}
        first = await client.post("/companies", json={"name": "Keyed Ltd"}, headers=keyed)
        assert first.status_code == 200
        assert trace.commits() == 1 and len(trace.writers()) == 1

        trace.clear()  # its replay: the count and the claim's look-up, one transaction
        again = await client.post("/companies", json={"name": "Keyed Ltd"}, headers=keyed)
        assert again.content == first.content
        assert trace.commits() == 1


@pytest.mark.anyio
async def test_control_an_app_outside_the_unit_commits_before_it_runs(
    tmp_path: Path, trace: Trace
) -> None:
    options = options_at(tmp_path)
    app = wrap(create_core(options), options)  # joins_unit=False: the count commits first
    async with client_for(app) as client:
        assert (await client.post("/companies", json={"name": "Warm Ltd"})).status_code == 200
        trace.clear()
        assert (await client.post("/companies", json={"name": "Plain Ltd"})).status_code == 200
    assert trace.commits() == 2


_real_create = Store.create_company


def crash_after_writing(self: Store, *args: Any, **kwargs: Any) -> Any:
    """`Store.create_company` that writes, then fails as a crashing handler would."""
    _real_create(self, *args, **kwargs)
    raise RuntimeError("the handler crashed after writing")


@pytest.mark.anyio
async def test_a_crash_writes_nothing_but_its_count(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    options = options_at(tmp_path)
    core = create_core(options)
    store: Store = core.state.store
    async with client_for(wrap(core, options, joins_unit=True)) as client:
        monkeypatch.setattr(Store, "create_company", crash_after_writing)
        crashed = await client.post("/companies", json={"name": "Half Written Ltd"})
        monkeypatch.setattr(Store, "create_company", _real_create)
        control = await client.post("/companies", json={"name": "Whole Ltd"})
    assert crashed.status_code == 500 and control.status_code == 200
    assert company_names(store.db_path) == ["Whole Ltd"]
    assert control.headers["X-Rate-Limit-Remaining"] == "998"  # the crash was counted


@pytest.mark.anyio
async def test_store_calls_join_the_unit_and_roll_back_with_it(tmp_path: Path) -> None:
    db = tmp_path / "joined.db"
    store = Store(db)
    for outcome in ("rollback", "commit"):
        unit = Unit(db)
        token = enter(unit)
        try:
            await unit.begin()
            store.create_company(f"{outcome} Ltd")
            with sqlite3.connect(db) as other:  # not seen outside before the commit
                assert other.execute("SELECT COUNT(*) FROM companies").fetchone() == (0,)
            unit.commit() if outcome == "commit" else unit.rollback()
        finally:
            leave(token)
    assert company_names(db) == ["commit Ltd"]


@pytest.mark.anyio
async def test_control_a_keyed_post_that_waits_commits_its_claim_first(
    tmp_path: Path, trace: Trace
) -> None:
    options = replace(options_at(tmp_path), latency_ms=1)  # it waits with its claim made
    app = wrap(create_core(options), options, joins_unit=True)
    async with client_for(app) as client:
        assert (await client.post("/companies", json={"name": "Warm Ltd"})).status_code == 200
        trace.clear()
        keyed = {"Idempotency-Key": str(uuid.uuid4())}
        assert (
            await client.post("/companies", json={"name": "Slow Ltd"}, headers=keyed)
        ).is_success
    assert trace.commits() == 2  # the count and the claim, seen while it waits; then the rest


@pytest.mark.anyio
async def test_a_keyed_crash_keeps_its_count_and_replays_its_500(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    options = options_at(tmp_path)
    core = create_core(options)
    keyed = {"Idempotency-Key": str(uuid.uuid4())}
    async with client_for(wrap(core, options, joins_unit=True)) as client:
        monkeypatch.setattr(Store, "create_company", crash_after_writing)
        crashed = await client.post("/companies", json={"name": "Half Ltd"}, headers=keyed)
        monkeypatch.setattr(Store, "create_company", _real_create)
        replay = await client.post("/companies", json={"name": "Half Ltd"}, headers=keyed)
    assert crashed.status_code == replay.status_code == 500
    assert replay.content == crashed.content  # the key kept its answer: a replay, not a re-run
    assert company_names(core.state.store.db_path) == []  # what the crash wrote is undone
    assert replay.headers["X-Rate-Limit-Remaining"] == "998"  # both were counted


@pytest.mark.anyio
async def test_a_crash_after_answering_frees_its_key_and_keeps_its_count(tmp_path: Path) -> None:
    """An app that fails once its answer has started (no 500 can be sent any more): what it
    wrote is undone, its key is freed for the retry, and its count stays."""
    options = options_at(tmp_path)
    store = Store(options.db_path)
    crashes = [False, True]  # popped from the end: the first answer fails

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await store_call(store.create_company, "Started Ltd")
        await send({"type": "http.response.start", "status": 200, "headers": []})
        if crashes.pop():
            raise RuntimeError("failed mid-answer")
        await send({"type": "http.response.body", "body": b"{}"})

    keyed = {"Idempotency-Key": str(uuid.uuid4())}
    async with client_for(wrap(app, options, joins_unit=True)) as client:
        with pytest.raises(RuntimeError, match="failed mid-answer"):
            await client.post("/companies", json={"name": "Started Ltd"}, headers=keyed)
        assert company_names(options.db_path) == []
        retry = await client.post("/companies", json={"name": "Started Ltd"}, headers=keyed)
    assert retry.status_code == 200  # the key was free: it ran (not 409, not a replay)
    assert company_names(options.db_path) == ["Started Ltd"]
    assert retry.headers["X-Rate-Limit-Remaining"] == "998"
