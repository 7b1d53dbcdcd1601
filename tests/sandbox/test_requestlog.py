"""The request log of the real served sandbox: one JSON line per request, from several processes."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from reconcile.sandbox.layers.requestlog import read_log
from tests.support.sandbox_server import serve_sandbox

AUTH = {"Authorization": "Basic " + base64.b64encode(b"request-log-key").decode()}
FIELDS = {
    "time",
    "method",
    "path",
    "query",
    "status",
    "idempotency_key",
    "idempotency",
    "duration_ms",
    "fault",
}


def test_one_line_per_request_with_its_fields(tmp_path: Path) -> None:
    log = tmp_path / "requests.jsonl"
    k = str(uuid.uuid4())
    with (
        serve_sandbox(tmp_path / "s.db", "--request-log", str(log)) as url,
        httpx.Client(base_url=url, headers=AUTH, timeout=10) as client,
    ):
        client.post("/companies", json={"name": "Logged"}, headers={"Idempotency-Key": k})
        client.post("/companies", json={"name": "Logged"}, headers={"Idempotency-Key": k})
        client.get("/companies", params={"page": "1", "pageSize": "10"})
        client.get("/companies/nope")
        client.get("/link/companies/nope")
    entries = read_log(log)
    assert [(e["method"], e["path"], e["status"]) for e in entries] == [
        ("POST", "/companies", 200),
        ("POST", "/companies", 200),
        ("GET", "/companies", 200),
        ("GET", "/companies/nope", 404),
        ("GET", "/link/companies/nope", 404),
    ]
    for e in entries:
        assert set(e) >= FIELDS
        assert datetime.fromisoformat(e["time"]).tzinfo is not None
        assert isinstance(e["duration_ms"], float) and e["duration_ms"] >= 0
        assert e["fault"] is None
    assert [e["idempotency_key"] for e in entries[:3]] == [k, k, None]
    assert [e["idempotency"] for e in entries[:2]] == ["stored", "replayed"]
    assert entries[2]["query"] == "page=1&pageSize=10"


def test_dropped_and_lost_requests_are_logged(tmp_path: Path) -> None:
    log = tmp_path / "requests.jsonl"
    for rate in ("--drop-rate", "--lost-response-rate"):
        with (
            serve_sandbox(tmp_path / "s.db", rate, "1", "--request-log", str(log)) as url,
            httpx.Client(base_url=url, headers=AUTH, timeout=10) as client,
            pytest.raises(httpx.TransportError),
        ):
            client.post("/companies", json={"name": "Gone"})
    assert [(e["status"], e["fault"]) for e in read_log(log)] == [
        ("dropped", "drop"),
        ("lost", "lost"),
    ]


def test_processes_append_whole_lines(tmp_path: Path) -> None:
    """Two servers writing one log at the same time: every line is whole JSON, none is lost."""
    log = tmp_path / "shared.jsonl"
    db = tmp_path / "s.db"

    async def hammer(url: str, n: int) -> None:
        async with httpx.AsyncClient(base_url=url, headers=AUTH, timeout=20) as client:
            await asyncio.gather(
                *(client.get("/companies", params={"n": str(i)}) for i in range(n))
            )

    async def both(a: str, b: str) -> None:
        await asyncio.gather(hammer(a, 150), hammer(b, 150))

    with (
        serve_sandbox(db, "--request-log", str(log), "--daily-quota", "100000") as a,
        serve_sandbox(db, "--request-log", str(log), "--daily-quota", "100000") as b,
    ):
        asyncio.run(both(a, b))
    lines = log.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 300
    entries = [json.loads(line) for line in lines]
    assert sorted(int(e["query"].removeprefix("n=")) for e in entries) == sorted(
        list(range(150)) * 2
    )
    assert len({e["pid"] for e in entries}) == 2
