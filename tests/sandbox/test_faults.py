"""Fault injection on the real served sandbox (drops and lost responses need a real server)."""

from __future__ import annotations

import base64
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconcile.sandbox.layers.requestlog import read_log
from reconcile.sandbox.store import Store
from tests.support.oas import assert_conforms
from tests.support.sandbox_server import serve_sandbox

AUTH = {"Authorization": "Basic " + base64.b64encode(b"faults-test-key").decode()}
MIXED = (
    "--error-rate",
    "0.2",
    "--throttle-rate",
    "0.15",
    "--drop-rate",
    "0.1",
    "--lost-response-rate",
    "0.1",
)


def outcome(client: httpx.Client, method: str, path: str, **kwargs: Any) -> int | str:
    try:
        return client.request(method, path, **kwargs).status_code
    except httpx.TransportError:
        return "transport error"


def run_sequence(tmp_path: Path, name: str, seed: int) -> tuple[list[int | str], list[Any]]:
    """40 requests in a fixed order against a fresh server; what the client saw, and the log."""
    log = tmp_path / f"{name}.jsonl"
    with (
        serve_sandbox(
            tmp_path / f"{name}.db", *MIXED, "--seed", str(seed), "--request-log", str(log)
        ) as url,
        httpx.Client(base_url=url, headers=AUTH, timeout=10) as client,
    ):
        seen = []
        for n in range(40):
            if n % 2:
                seen.append(outcome(client, "GET", "/companies"))
            else:
                seen.append(outcome(client, "POST", "/companies", json={"name": f"C{n}"}))
    entries = read_log(log)
    return seen, [(e["method"], e["status"], e["fault"]) for e in entries]


def test_same_seed_same_faults(tmp_path: Path) -> None:
    seen_a, log_a = run_sequence(tmp_path, "a", seed=11)
    seen_b, log_b = run_sequence(tmp_path, "b", seed=11)
    _, log_c = run_sequence(tmp_path, "c", seed=12)
    assert seen_a == seen_b and log_a == log_b
    assert log_a != log_c
    assert len(log_a) == 40
    faults = {fault for _, _, fault in log_a}
    assert faults == {None, "drop", "error", "throttle", "lost"}
    for (_, status, fault), seen in zip(log_a, seen_a, strict=True):
        if fault in ("drop", "lost"):
            assert status == {"drop": "dropped", "lost": "lost"}[fault]
            assert seen == "transport error"
        elif fault == "error":
            assert status in (500, 503) and seen == status
        elif fault == "throttle":
            assert status == 429 and seen == 429
        else:
            assert seen == status and status == 200


def test_injected_errors_conform_to_the_spec(tmp_path: Path) -> None:
    with (
        serve_sandbox(
            tmp_path / "s.db", "--error-rate", "0.5", "--throttle-rate", "0.5", "--seed", "5"
        ) as url,
        httpx.Client(base_url=url, headers=AUTH, timeout=10) as client,
    ):
        seen: set[int] = set()
        for _ in range(60):
            r = client.get("/companies")
            seen.add(r.status_code)
            assert_conforms("GET", "/companies", r.status_code, r.json())
            assert "X-Rate-Limit-Limit" in r.headers
            if r.status_code == 429:
                assert r.headers["Retry-After"] == "1"
        assert seen == {429, 500, 503}


def test_dropped_connection_runs_nothing(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    with (
        serve_sandbox(db, "--drop-rate", "1") as url,
        httpx.Client(base_url=url, headers=AUTH, timeout=10) as client,
    ):
        with pytest.raises(httpx.TransportError):
            client.post("/companies", json={"name": "Never"})
        # Faults are for the API, never for the customer's Link pages.
        assert client.get("/link/companies/nope").status_code == 404
    store = Store(db)
    try:
        assert store.count_companies() == 0
    finally:
        store.close()


def test_lost_response_commits_then_replays(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    uid = f"cus-{uuid.uuid4().hex[:8]}"
    body = {"name": "Lost Response Ltd", "tags": {"reconcile.uid": uid}}
    k = {"Idempotency-Key": str(uuid.uuid4())}
    with serve_sandbox(db, "--lost-response-rate", "1") as lossy_url, serve_sandbox(db) as url:
        with (
            httpx.Client(base_url=lossy_url, headers=AUTH, timeout=10) as lossy,
            pytest.raises(httpx.TransportError),
        ):
            lossy.post("/companies", json=body, headers=k)
        with httpx.Client(base_url=url, headers=AUTH, timeout=10) as client:
            found = client.get("/companies", params={"tags": f"reconcile.uid={uid}"}).json()
            assert found["totalResults"] == 1  # the write happened
            retry = client.post("/companies", json=body, headers=k)
            assert retry.status_code == 200
            assert retry.json()["id"] == found["results"][0]["id"]  # replayed, not re-created
            again = client.get("/companies", params={"tags": f"reconcile.uid={uid}"}).json()
            assert again["totalResults"] == 1


def test_latency_is_added_to_api_requests_only(tmp_path: Path) -> None:
    with (
        serve_sandbox(tmp_path / "s.db", "--latency-ms", "400") as url,
        httpx.Client(base_url=url, headers=AUTH, timeout=10) as client,
    ):
        client.get("/companies")  # warm the connection
        started = time.perf_counter()
        assert client.get("/companies").status_code == 200
        api_seconds = time.perf_counter() - started
        started = time.perf_counter()
        assert client.get("/link/companies/nope").status_code == 404
        link_seconds = time.perf_counter() - started
    assert api_seconds >= 0.4
    assert link_seconds < 0.3
