"""The sandbox's middleware stack around a tiny stand-in app, in process and on loopback.

These pin the layers' own behaviour independently of the core Codat routes; the other
`test_<layer>.py` files exercise the same layers around the real sandbox on the wire.
"""

from __future__ import annotations

import asyncio
import json
import socket
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from reconcile.sandbox.layers.faults import ConnectionDropped, FaultPlan
from reconcile.sandbox.layers.idempotency import Claimed, Conflict, IdempotencyStore, InFlight
from reconcile.sandbox.layers.requestlog import read_log
from reconcile.sandbox.layers.stack import wrap
from reconcile.sandbox.options import SandboxOptions
from tests.sandbox.test_requestlog import FIELDS

AUTH = {"Authorization": "Basic dW5pdC10ZXN0LWtleQ=="}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def tiny_app(db: Path) -> Starlette:
    """Writes rows to its own table, like the core app writes companies."""
    conn = sqlite3.connect(str(db), isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("CREATE TABLE IF NOT EXISTS things (id TEXT PRIMARY KEY, name TEXT)")

    async def create(request: Request) -> Response:
        body = await request.json()
        if not body.get("name"):
            return JSONResponse({"statusCode": 400, "error": "name is required"}, 400)
        await asyncio.sleep(float(request.query_params.get("sleep", "0")))
        thing = {"id": str(uuid.uuid4()), "name": body["name"]}
        conn.execute("INSERT INTO things VALUES (?, ?)", (thing["id"], thing["name"]))
        return JSONResponse(thing, headers={"X-Thing": thing["id"]})

    async def get(request: Request) -> Response:
        await asyncio.sleep(float(request.query_params.get("sleep", "0")))
        row = conn.execute(
            "SELECT id, name FROM things WHERE id = ?", (request.path_params["cid"],)
        ).fetchone()
        if row is None:
            return JSONResponse({"statusCode": 404, "error": "not found"}, 404)
        return JSONResponse({"id": row[0], "name": row[1]})

    async def throttled(request: Request) -> Response:
        return JSONResponse(
            {"statusCode": 429, "error": "slow down"}, 429, headers={"Retry-After": "1"}
        )

    async def link(request: Request) -> Response:
        return HTMLResponse("<p>link</p>")

    return Starlette(
        routes=[
            Route("/companies", create, methods=["POST"]),
            Route("/companies/{cid}", get, methods=["GET"]),
            Route("/companies/{cid}/throttled", throttled, methods=["POST"]),
            Route("/link/page", link, methods=["GET"]),
        ]
    )


def count_things(db: Path) -> int:
    with sqlite3.connect(str(db)) as conn:
        return int(conn.execute("SELECT count(*) FROM things").fetchone()[0])


def client_for(app: ASGIApp) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1:8765", headers=AUTH
    )


@contextmanager
def serve(app: ASGIApp) -> Iterator[str]:
    """`app` under a real uvicorn on 127.0.0.1, in a thread; yields its base URL."""
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets whose proto says TCP;
    # without it every response waits ~40 ms (Nagle + delayed ACK) on loopback.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture
def options(tmp_path: Path) -> SandboxOptions:
    return SandboxOptions(
        db_path=tmp_path / "sandbox.db", daily_quota=10_000, request_log=tmp_path / "requests.jsonl"
    )


@pytest.mark.anyio
async def test_replay_and_conflict_in_process(options: SandboxOptions) -> None:
    app = wrap(tiny_app(options.db_path), options)
    async with client_for(app) as client:
        key = {"Idempotency-Key": str(uuid.uuid4())}
        first = await client.post("/companies", json={"name": "a"}, headers=key)
        again = await client.post("/companies", json={"name": "a"}, headers=key)
        other = await client.post("/companies", json={"name": "b"}, headers=key)
    assert first.status_code == again.status_code == 200
    assert first.content == again.content
    assert first.headers["X-Thing"] == again.headers["X-Thing"]
    assert other.status_code == 422
    assert count_things(options.db_path) == 1


@pytest.mark.anyio
async def test_app_429_releases_the_key(options: SandboxOptions) -> None:
    app = wrap(tiny_app(options.db_path), options)
    async with client_for(app) as client:
        key = {"Idempotency-Key": "k-429"}
        first = await client.post("/companies/x/throttled", json={}, headers=key)
        # Released: the same key may now be used for another request without a 422.
        other = await client.post("/companies", json={"name": "a"}, headers=key)
    assert first.status_code == 429
    assert other.status_code == 200


@pytest.mark.anyio
async def test_4xx_is_stored_and_replayed(options: SandboxOptions) -> None:
    app = wrap(tiny_app(options.db_path), options)
    async with client_for(app) as client:
        key = {"Idempotency-Key": "k-400"}
        first = await client.post("/companies", json={"name": ""}, headers=key)
        again = await client.post("/companies", json={"name": ""}, headers=key)
    assert first.status_code == again.status_code == 400
    assert first.content == again.content
    assert [e["idempotency"] for e in read_log(options.request_log or Path())] == [
        "stored",
        "replayed",
    ]


@pytest.mark.anyio
async def test_keys_are_scoped_per_credential(options: SandboxOptions) -> None:
    app = wrap(tiny_app(options.db_path), options)
    async with client_for(app) as client:
        key = {"Idempotency-Key": "shared"}
        await client.post("/companies", json={"name": "a"}, headers=key)
        other = await client.post(
            "/companies", json={"name": "b"}, headers={**key, "Authorization": "Basic b3RoZXIta2V5"}
        )
    assert other.status_code == 200
    assert count_things(options.db_path) == 2


@pytest.mark.anyio
async def test_in_flight_key_answers_409(options: SandboxOptions) -> None:
    app = wrap(tiny_app(options.db_path), options)
    async with client_for(app) as client:
        key = {"Idempotency-Key": "slow"}
        slow = asyncio.create_task(
            client.post("/companies?sleep=0.3", json={"name": "a"}, headers=key)
        )
        await asyncio.sleep(0.1)
        second = await client.post("/companies?sleep=0.3", json={"name": "a"}, headers=key)
        first = await slow
    assert second.status_code == 409
    assert first.status_code == 200


@pytest.mark.anyio
async def test_expiry_after_90_minutes(options: SandboxOptions) -> None:
    now = [1_800_000_000.0]
    app = wrap(tiny_app(options.db_path), options, clock=lambda: now[0])
    async with client_for(app) as client:
        key = {"Idempotency-Key": "expiring"}
        first = await client.post("/companies", json={"name": "a"}, headers=key)
        now[0] += 90 * 60 - 1
        replay = await client.post("/companies", json={"name": "a"}, headers=key)
        now[0] += 2
        fresh = await client.post("/companies", json={"name": "a"}, headers=key)
    assert replay.json() == first.json()
    assert fresh.status_code == 200 and fresh.json()["id"] != first.json()["id"]
    assert count_things(options.db_path) == 2


@pytest.mark.anyio
async def test_headers_quota_and_concurrency(options: SandboxOptions) -> None:
    opts = replace(options, daily_quota=5, concurrency_limit=2)
    app = wrap(tiny_app(opts.db_path), opts)
    async with client_for(app) as client:
        burst = await asyncio.gather(*(client.get("/companies/c1?sleep=0.2") for _ in range(3)))
        statuses = sorted(r.status_code for r in burst)
        assert statuses == [404, 404, 429]
        rest = [await client.get("/companies/c2") for _ in range(3)]
        link = await client.get("/link/page")
    assert [r.status_code for r in rest] == [404, 404, 429]
    for r in [*burst, *rest]:
        for name in ("X-Rate-Limit-Limit", "X-Rate-Limit-Remaining", "X-Rate-Limit-Reset"):
            assert name in r.headers
        assert r.headers["X-Rate-Limit-Limit"] == "5"
    assert rest[-1].headers["X-Rate-Limit-Remaining"] == "0"
    assert int(rest[-1].headers["Retry-After"]) > 0
    assert link.status_code == 200 and "X-Rate-Limit-Limit" not in link.headers


def test_fault_plan_is_reproducible(options: SandboxOptions) -> None:
    opts = replace(
        options, seed=7, drop_rate=0.1, error_rate=0.1, throttle_rate=0.1, lost_response_rate=0.1
    )
    first = [FaultPlan(opts).decide() for _ in range(1)]
    a, b = FaultPlan(opts), FaultPlan(opts)
    seq_a = [a.decide() for _ in range(500)]
    seq_b = [b.decide() for _ in range(500)]
    assert seq_a == seq_b and first[0] == seq_a[0]
    kinds = {d.kind for d in seq_a}
    assert kinds == {None, "drop", "error", "throttle", "lost"}
    assert {d.status for d in seq_a if d.kind == "error"} == {500, 503}


@pytest.mark.anyio
async def test_drop_in_process_is_a_transport_error(options: SandboxOptions) -> None:
    opts = replace(options, drop_rate=1.0)
    async with client_for(wrap(tiny_app(opts.db_path), opts)) as client:
        with pytest.raises(httpx.RemoteProtocolError) as err:
            await client.post("/companies", json={"name": "a"})
        link = await client.get("/link/page")
    assert isinstance(err.value, ConnectionDropped)
    assert link.status_code == 200
    assert count_things(opts.db_path) == 0


@pytest.mark.anyio
async def test_lost_in_process_commits_then_replays(options: SandboxOptions) -> None:
    opts = replace(options, lost_response_rate=1.0)
    async with client_for(wrap(tiny_app(opts.db_path), opts)) as client:
        with pytest.raises(httpx.RemoteProtocolError):
            await client.post("/companies", json={"name": "a"}, headers={"Idempotency-Key": "lost"})
    assert count_things(opts.db_path) == 1
    # The same key, without the fault, replays what was committed.
    async with client_for(wrap(tiny_app(opts.db_path), options)) as client:
        again = await client.post(
            "/companies", json={"name": "a"}, headers={"Idempotency-Key": "lost"}
        )
    assert again.status_code == 200
    assert count_things(opts.db_path) == 1


@pytest.mark.parametrize("fault", ["drop_rate", "lost_response_rate"])
def test_drop_and_lost_under_uvicorn(options: SandboxOptions, fault: str) -> None:
    opts = (
        replace(options, drop_rate=1.0)
        if fault == "drop_rate"
        else replace(options, lost_response_rate=1.0)
    )
    with (
        serve(wrap(tiny_app(opts.db_path), opts)) as base,
        httpx.Client(base_url=base, headers=AUTH, timeout=5) as client,
    ):
        with pytest.raises(httpx.TransportError):
            client.post("/companies", json={"name": "a"})
        assert client.get("/link/page").status_code == 200
    assert count_things(opts.db_path) == (1 if fault == "lost_response_rate" else 0)
    entries = read_log(opts.request_log or Path())
    assert entries[0]["status"] == ("lost" if fault == "lost_response_rate" else "dropped")
    assert entries[1]["status"] == 200 and entries[1]["fault"] is None


def test_request_log_lines(options: SandboxOptions) -> None:
    opts = replace(options, seed=3, error_rate=0.5)
    with (
        serve(wrap(tiny_app(opts.db_path), opts)) as base,
        httpx.Client(base_url=base, headers=AUTH, timeout=5) as client,
    ):
        for _ in range(20):
            client.get("/companies/nope", params={"q": "1"})
    entries = read_log(opts.request_log or Path())
    assert len(entries) == 20
    for e in entries:
        assert set(e) >= FIELDS - {"idempotency"}
        assert e["query"] == "q=1" and e["method"] == "GET"
        assert (e["fault"] == "error") == (e["status"] in (500, 503))
    assert json.dumps(entries)  # plain JSON values


def test_abandoned_running_claims_are_taken_over(tmp_path: Path) -> None:
    keys = IdempotencyStore(tmp_path / "keys.db", ttl=5400, running_timeout=300)
    assert keys.claim("cred", "k", "fp", 1000.0) == Claimed()
    assert keys.claim("cred", "k", "fp", 1100.0) == InFlight()
    assert keys.claim("cred", "k", "other", 1100.0) == Conflict()
    # The process that claimed it died without storing: after the timeout the key is free.
    assert keys.claim("cred", "k", "fp", 1301.0) == Claimed()
    assert keys.claim("cred", "k2", "fp", 1301.0) == Claimed()
    assert keys.purge(1301.0 + 5400) == 2
