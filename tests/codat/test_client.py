"""The Codat client against the real sandbox server on loopback (faults included)."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
from pathlib import Path
from typing import Any

import pytest

from reconcile.codat import ClientSettings, CodatClient, CodatHTTPError, ConfigError
from reconcile.codat.client import check_base_url
from tests.support.oas import request_errors
from tests.support.sandbox_server import serve_sandbox

SECRET = "s3cret-key-never-shown"


def client_for(url: str, key: str = SECRET, **settings: Any) -> CodatClient:
    base = ClientSettings(base_url=url, backoff_base=0.01, backoff_cap=0.05)
    return CodatClient(key, dataclasses.replace(base, **settings))


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8000", "http://localhost:1", "http://[::1]:9", "https://api.codat.io"]
)
def test_base_urls_allowed(url: str) -> None:
    assert check_base_url(url) == url


@pytest.mark.parametrize(
    "url",
    [
        "http://api.codat.io",
        "http://10.0.0.1",
        "ftp://x",
        "nonsense",
        "http://[::1",
        "https://api.codat.io:abc",
    ],
)
def test_plain_http_refused_off_loopback(url: str) -> None:
    with pytest.raises(ConfigError):
        check_base_url(url)


def test_missing_key_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="CODAT_API_KEY"):
        CodatClient("")


def test_round_trip_and_key_never_leaks(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    async def go(url: str) -> None:
        async with client_for(url) as client:
            body = {"name": "Acme", "tags": {"reconcile.owner": "o", "reconcile.uid": "u1"}}
            assert request_errors("POST", "/companies", body) == []
            company = await client.create_company(body, idempotency_key="k-1")
            again = await client.create_company(body, idempotency_key="k-1")
            assert again.id == company.id  # replayed, not duplicated
            listed = await client.list_companies(tags="reconcile.owner=o")
            assert [c.id for c in listed] == [company.id]
            conn = await client.create_connection(company.id, "gbol", idempotency_key="k-2")
            assert conn.status == "PendingAuth"
            with pytest.raises(CodatHTTPError) as err:
                await client.get_company("00000000-0000-4000-8000-000000000000")
            assert err.value.status == 404 and err.value.correlation_id
            assert SECRET not in str(err.value)

    caplog.set_level(logging.INFO, logger="reconcile.http")
    with serve_sandbox(tmp_path / "s.db") as url:
        asyncio.run(go(url))
    assert "POST /companies -> 200" in caplog.text
    assert SECRET not in caplog.text


def test_pagination_reads_every_page(tmp_path: Path) -> None:
    async def go(url: str) -> None:
        async with client_for(url) as client:
            for i in range(7):
                await client.create_company({"name": f"C {i}", "tags": {"t": "x"}})
            everything = await client.list_companies(tags="t=x", page_size=3)
            assert len(everything) == 7
            assert len({c.id for c in everything}) == 7
            assert client.requests_sent == 7 + 3

    with serve_sandbox(tmp_path / "s.db") as url:
        asyncio.run(go(url))


def test_wrong_key_is_401_with_correlation_id(tmp_path: Path) -> None:
    async def go(url: str) -> None:
        async with client_for(url, key="wrong") as client:
            with pytest.raises(CodatHTTPError) as err:
                await client.list_companies()
            assert err.value.status == 401
            assert "wrong" not in str(err.value)

    with serve_sandbox(tmp_path / "s.db", "--api-key", SECRET) as url:
        asyncio.run(go(url))


@pytest.mark.slow
@pytest.mark.parametrize(
    "fault", ["--error-rate", "--throttle-rate", "--drop-rate", "--lost-response-rate"]
)
def test_retries_through_faults_without_duplicates(tmp_path: Path, fault: str) -> None:
    log = tmp_path / "requests.jsonl"

    async def go(url: str) -> None:
        async with client_for(url, max_attempts=12) as client:
            for i in range(15):
                await client.create_company(
                    {"name": f"Co {i}", "tags": {"run": "faults"}}, idempotency_key=f"key-{i}"
                )
            listed = await client.list_companies(tags="run=faults")
            assert sorted(c.name for c in listed) == sorted(f"Co {i}" for i in range(15))

    args = (fault, "0.3", "--seed", "7", "--request-log", str(log))
    with serve_sandbox(tmp_path / "s.db", *args) as url:
        asyncio.run(go(url))
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert any(line.get("fault") for line in lines), "the fault was never injected"


def test_a_server_that_is_not_codat_is_a_typed_error(tmp_path: Path) -> None:
    """A 2xx that is not a JSON object (a wrong CODAT_BASE_URL) raises CodatError, not a crash."""
    import http.server
    import threading
    from functools import partial

    from reconcile.codat import CodatError

    (tmp_path / "companies").write_text("<html>not codat</html>")
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    async def go() -> None:
        async with client_for(f"http://127.0.0.1:{server.server_port}") as c:
            with pytest.raises(CodatError, match="unexpected answer from Codat"):
                await c.list_companies()

    try:
        asyncio.run(go())
    finally:
        server.shutdown()
