"""The default transport (httpx's own for a run's first requests, then aiohttp under the httpx
API) keeps every guarantee of the client on both: no redirect followed, no proxy for http, the
bytes httpx built, httpx's decoding (so the answer cap counts what is read), and a disconnect
reported as a disconnect. Real servers on loopback."""

from __future__ import annotations

import asyncio
import gzip
import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from reconcile.codat import ClientSettings, CodatClient, CodatHTTPError, CodatTransportError
from reconcile.codat import transport as transport_module
from reconcile.codat.client import USER_AGENT
from reconcile.codat.transport import AiohttpTransport, SwitchingTransport, lean_transport
from tests.support.hostile_server import Reply, Seen, company, page, serve_hostile
from tests.support.sandbox_server import serve_sandbox


def test_the_default_transport_is_the_switching_one_for_http_and_https(
    no_proxies: pytest.MonkeyPatch,
) -> None:
    assert isinstance(lean_transport("http://127.0.0.1:9"), SwitchingTransport)
    assert isinstance(lean_transport("https://api.codat.io"), SwitchingTransport)
    no_proxies.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    assert isinstance(lean_transport("http://127.0.0.1:9"), SwitchingTransport)  # never proxied


def test_an_https_proxy_of_the_environment_keeps_httpx_own_transport(
    no_proxies: pytest.MonkeyPatch,
) -> None:
    no_proxies.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    assert lean_transport("https://api.codat.io") is None
    no_proxies.setenv("NO_PROXY", "api.codat.io")
    assert isinstance(lean_transport("https://api.codat.io"), SwitchingTransport)


@pytest.fixture(params=["httpx-first", "aiohttp"])
def lean(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> bool:
    """Each guarantee on both of the default transport's paths: httpx's own (a run's first
    requests) and aiohttp (from the first request on, here)."""
    on_aiohttp: bool = request.param == "aiohttp"
    monkeypatch.setattr(transport_module, "SWITCH_AFTER", 0 if on_aiohttp else 1000)
    return on_aiohttp


def send(lean: bool, url: str, method: str, path: str, **kwargs: object) -> object:
    """One `CodatClient.request` with the default transport; the answer or the error. Checks
    that the path asked for (`lean`: aiohttp) carried it."""

    async def go() -> object:
        transport = SwitchingTransport()  # what lean_transport gives (the test above)
        settings = ClientSettings(base_url=url, max_attempts=1)
        async with CodatClient("k", settings, transport=transport) as client:
            try:
                return await client.request(method, path, **kwargs)  # type: ignore[arg-type]
            except Exception as exc:
                return exc
            finally:
                assert transport.lean is lean

    return asyncio.run(go())


def test_a_redirect_is_never_followed(no_proxies: pytest.MonkeyPatch, lean: bool) -> None:
    def route(seen: Seen) -> Reply:
        if seen.path == "/companies":
            return Reply(302, b"", {"Location": "/elsewhere"})
        return Reply(200, page([]))

    with serve_hostile(route) as codat:
        got = send(lean, codat.url, "GET", "/companies")
    assert isinstance(got, CodatHTTPError) and got.status == 302
    assert [seen.path for seen in codat.requests] == ["/companies"]


def test_the_request_is_sent_as_httpx_built_it(no_proxies: pytest.MonkeyPatch, lean: bool) -> None:
    with serve_hostile(lambda seen: Reply(200, company())) as codat:
        got = send(
            lean, codat.url, "POST", "/companies", json={"name": "Café"}, idempotency_key="k-1"
        )
    assert isinstance(got, httpx.Response) and got.status_code == 200
    (seen,) = codat.requests
    assert seen.path == "/companies"
    assert seen.headers["User-Agent"] == USER_AGENT  # not aiohttp's
    assert seen.headers["Idempotency-Key"] == "k-1"
    assert seen.headers["Content-Type"] == "application/json"
    assert seen.headers["Authorization"].startswith("Basic ")
    assert json.loads(seen.body) == {"name": "Café"}


def test_a_quoted_segment_arrives_quoted(no_proxies: pytest.MonkeyPatch, lean: bool) -> None:
    with serve_hostile(lambda seen: Reply(404, {"error": "no"})) as codat:
        send(lean, codat.url, "GET", "/companies/%2E%2E/connections/a%2Fb")
    assert codat.requests[0].path == "/companies/%2E%2E/connections/a%2Fb"


def test_a_compressed_answer_is_decoded_by_httpx(
    no_proxies: pytest.MonkeyPatch, lean: bool
) -> None:
    body = gzip.compress(json.dumps(page([company()])).encode())
    reply = Reply(200, body, {"Content-Encoding": "gzip"})
    with serve_hostile(lambda seen: reply) as codat:
        got = send(lean, codat.url, "GET", "/companies")
    assert isinstance(got, httpx.Response)
    assert got.json()["results"][0]["name"] == company()["name"]


@contextmanager
def hangs_up() -> Iterator[str]:
    """A loopback server that reads a request and closes the connection without answering."""
    sock = socket.create_server(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"

    def serve() -> None:
        while True:
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            conn.recv(65536)
            conn.close()

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield url
    finally:
        sock.close()


def test_a_disconnect_is_reported_as_a_disconnect(
    no_proxies: pytest.MonkeyPatch, lean: bool
) -> None:
    async def direct(url: str) -> None:
        transport = AiohttpTransport()
        try:
            await transport.handle_async_request(httpx.Request("GET", f"{url}/companies"))
        finally:
            await transport.aclose()

    with hangs_up() as url:
        with pytest.raises(httpx.RemoteProtocolError):
            asyncio.run(direct(url))
        got = send(lean, url, "GET", "/companies")
    assert isinstance(got, CodatTransportError)
    assert "RemoteProtocolError" in str(got)


def test_a_refused_connection_is_a_connect_error(no_proxies: pytest.MonkeyPatch) -> None:
    sock = socket.create_server(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()

    async def direct() -> None:
        transport = AiohttpTransport()
        try:
            await transport.handle_async_request(httpx.Request("GET", f"http://127.0.0.1:{port}/"))
        finally:
            await transport.aclose()

    with pytest.raises(httpx.ConnectError):
        asyncio.run(direct())


def test_idempotency_keys_replay_through_either_transport(tmp_path: Path, lean: bool) -> None:
    async def twice(url: str) -> tuple[str, str]:
        transport = SwitchingTransport()
        async with CodatClient("k", ClientSettings(base_url=url), transport=transport) as client:
            first = await client.request(
                "POST", "/companies", json={"name": "a"}, idempotency_key="x"
            )
            again = await client.request(
                "POST", "/companies", json={"name": "a"}, idempotency_key="x"
            )
            assert transport.lean is lean
            return first.json()["id"], again.json()["id"]

    with serve_sandbox(tmp_path / "s.db") as url:
        first, again = asyncio.run(twice(url))
    assert first == again


@pytest.mark.parametrize("installed", [True, False], ids=["aiohttp", "no-aiohttp"])
def test_a_run_moves_to_aiohttp_after_its_first_requests(
    no_proxies: pytest.MonkeyPatch, installed: bool
) -> None:
    """Requests 1..N on httpx's own transport, N+1 on aiohttp; without aiohttp, httpx's
    throughout (the control: the same run, nothing to move to)."""
    no_proxies.setattr(transport_module, "_aiohttp_installed", lambda: installed)

    async def run(url: str) -> list[bool]:
        transport = SwitchingTransport(switch_after=3)
        carried = []
        async with CodatClient("k", ClientSettings(base_url=url), transport=transport) as client:
            for _ in range(5):
                answer = await client.request("GET", "/companies")
                assert answer.json()["results"] == []
                carried.append(transport.lean)
        return carried

    with serve_hostile(lambda seen: Reply(200, page([]))) as codat:
        carried = asyncio.run(run(codat.url))
    assert len(codat.requests) == 5
    assert carried == [False, False, False, installed, installed]
