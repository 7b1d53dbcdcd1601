"""The default wire (httpx's own transport for a run's first requests, then the lean aiohttp
wire) keeps every guarantee of the client on both: no redirect followed, no proxy for http, the
bytes the client built, decoding within the answer cap, and a disconnect reported as a
disconnect. Real servers on loopback."""

from __future__ import annotations

import asyncio
import gzip
import json
import socket
import threading
import zlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import httpx
import pytest

from reconcile.codat import (
    ClientSettings,
    CodatClient,
    CodatHTTPError,
    CodatTransportError,
    UnexpectedAnswer,
)
from reconcile.codat.client import USER_AGENT
from reconcile.codat.transport import AiohttpWire, SwitchingWire, make_wire
from reconcile.codat.wire import Answer, HttpxWire, Outgoing
from tests.support.hostile_server import Reply, Seen, company, page, serve_hostile
from tests.support.sandbox_server import serve_sandbox


def test_the_default_wire_is_the_switching_one_for_http_and_https(
    no_proxies: pytest.MonkeyPatch,
) -> None:
    assert isinstance(make_wire("http://127.0.0.1:9", 30.0, None), SwitchingWire)
    assert isinstance(make_wire("https://api.codat.io", 30.0, None), SwitchingWire)
    no_proxies.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    assert isinstance(make_wire("http://127.0.0.1:9", 30.0, None), SwitchingWire)  # never proxied


def test_an_https_proxy_of_the_environment_keeps_httpx_own_transport(
    no_proxies: pytest.MonkeyPatch,
) -> None:
    no_proxies.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    assert isinstance(make_wire("https://api.codat.io", 30.0, None), HttpxWire)
    no_proxies.setenv("NO_PROXY", "api.codat.io")
    assert isinstance(make_wire("https://api.codat.io", 30.0, None), SwitchingWire)


def test_a_given_transport_is_sent_through_httpx() -> None:
    given = httpx.MockTransport(lambda request: httpx.Response(204))
    wire = make_wire("http://127.0.0.1:9", 30.0, given)
    assert isinstance(wire, HttpxWire) and wire.http._transport is given


def send(lean: bool, url: str, method: str, path: str, **kwargs: object) -> object:
    """One `CodatClient.request` with the default wire; the answer or the error. Checks that
    the path asked for (`lean`: aiohttp) carried it."""

    async def go() -> object:
        settings = ClientSettings(base_url=url, max_attempts=1)
        async with CodatClient("k", settings) as client:
            try:
                return await client.request(method, path, **kwargs)  # type: ignore[arg-type]
            except Exception as exc:
                return exc
            finally:
                assert isinstance(client.wire, SwitchingWire) and client.wire.lean is lean

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


def test_the_request_is_sent_as_the_client_built_it(
    no_proxies: pytest.MonkeyPatch, lean: bool
) -> None:
    with serve_hostile(lambda seen: Reply(200, company())) as codat:
        got = send(
            lean, codat.url, "POST", "/companies", json={"name": "Café"}, idempotency_key="k-1"
        )
    assert isinstance(got, Answer) and got.status_code == 200
    (seen,) = codat.requests
    assert seen.path == "/companies"
    assert seen.headers["User-Agent"] == USER_AGENT  # not aiohttp's
    assert seen.headers["Accept"] == "application/json"
    assert seen.headers["Accept-Encoding"] == "gzip, deflate"  # what both wires decode
    assert seen.headers["Idempotency-Key"] == "k-1"
    assert seen.headers["Content-Type"] == "application/json"
    assert seen.headers["Authorization"].startswith("Basic ")
    assert json.loads(seen.body) == {"name": "Café"}


def test_a_quoted_segment_arrives_quoted(no_proxies: pytest.MonkeyPatch, lean: bool) -> None:
    with serve_hostile(lambda seen: Reply(404, {"error": "no"})) as codat:
        send(lean, codat.url, "GET", "/companies/%2E%2E/connections/a%2Fb")
    assert codat.requests[0].path == "/companies/%2E%2E/connections/a%2Fb"


def test_the_query_is_encoded_as_httpx_encodes_it(
    no_proxies: pytest.MonkeyPatch, lean: bool
) -> None:
    params = {"page": 2, "pageSize": 5000, "tags": 'reconcile.owner="a b&c"', "flag": True}
    with serve_hostile(lambda seen: Reply(200, page([]))) as codat:
        send(lean, codat.url, "GET", "/companies", params=params)
    expected = httpx.URL("http://x/companies", params=params)
    (seen,) = codat.requests
    assert seen.query == {k: [v] for k, v in expected.params.items()}
    assert seen.query["tags"] == ['reconcile.owner="a b&c"'] and seen.query["flag"] == ["true"]


@pytest.mark.parametrize(
    ("encoding", "squeeze"),
    [
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", lambda data: zlib.compress(data)[2:-4]),  # raw deflate, as some servers send
    ],
    ids=["gzip", "deflate", "raw-deflate"],
)
def test_a_compressed_answer_is_decoded(
    no_proxies: pytest.MonkeyPatch, lean: bool, encoding: str, squeeze: Callable[[bytes], bytes]
) -> None:
    body = squeeze(json.dumps(page([company()])).encode())
    reply = Reply(200, body, {"Content-Encoding": encoding})
    with serve_hostile(lambda seen: reply) as codat:
        got = send(lean, codat.url, "GET", "/companies")
    assert isinstance(got, Answer)
    assert got.json()["results"][0]["name"] == company()["name"]


async def get_within(url: str, cap: int, lean: bool | None = None) -> object:
    """One `GET /companies` with an answer cap of `cap` bytes: the answer, or the
    `UnexpectedAnswer` the cap made; with `lean`, the wire it went through is checked too."""
    settings = ClientSettings(base_url=url, max_attempts=1, max_answer_bytes=cap)
    async with CodatClient("k", settings) as client:
        try:
            return await client.request("GET", "/companies")
        except UnexpectedAnswer as exc:
            return exc
        finally:
            if lean is not None:
                assert isinstance(client.wire, SwitchingWire) and client.wire.lean is lean


def test_a_compression_bomb_is_capped_decoded(no_proxies: pytest.MonkeyPatch, lean: bool) -> None:
    """The cap counts the decoded bytes: 1 MB of zeros is 1 KB gzipped (the control: the same
    answer within a larger cap is read)."""
    reply = Reply(200, gzip.compress(b"0" * 1_000_000), {"Content-Encoding": "gzip"})

    with serve_hostile(lambda seen: reply) as codat:
        capped = asyncio.run(get_within(codat.url, 100_000))
        read = asyncio.run(get_within(codat.url, 2_000_000))
    assert isinstance(capped, UnexpectedAnswer) and "larger than 100,000" in str(capped)
    assert isinstance(read, Answer) and len(read.content) == 1_000_000


def test_an_unreadable_encoding_is_an_unexpected_answer(
    no_proxies: pytest.MonkeyPatch, lean: bool
) -> None:
    reply = Reply(200, b"not gzip at all", {"Content-Encoding": "gzip"})
    with serve_hostile(lambda seen: reply) as codat:
        got = send(lean, codat.url, "GET", "/companies")
    assert isinstance(got, UnexpectedAnswer) and "unreadable body" in str(got)


@contextmanager
def answers_raw(answer: bytes) -> Iterator[str]:
    """A loopback server that reads each request, sends `answer` as it is (b"": nothing) and
    closes the connection."""
    sock = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        while True:
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            with conn:
                conn.recv(65536)
                conn.sendall(answer)

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        sock.close()


def hangs_up() -> AbstractContextManager[str]:
    """A loopback server that reads a request and closes the connection without answering."""
    return answers_raw(b"")


def test_a_disconnect_is_reported_as_a_disconnect(
    no_proxies: pytest.MonkeyPatch, lean: bool
) -> None:
    async def direct(url: str) -> None:
        wire = AiohttpWire()
        try:
            await wire.send(Outgoing("GET", f"{url}/companies", {}, None, 1000))
        finally:
            await wire.aclose()

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
        wire = AiohttpWire()
        try:
            await wire.send(Outgoing("GET", f"http://127.0.0.1:{port}/", {}, None, 1000))
        finally:
            await wire.aclose()

    with pytest.raises(httpx.ConnectError):
        asyncio.run(direct())


def test_idempotency_keys_replay_through_either_transport(tmp_path: Path, lean: bool) -> None:
    async def twice(url: str) -> tuple[str, str]:
        async with CodatClient("k", ClientSettings(base_url=url)) as client:
            first = await client.request(
                "POST", "/companies", json={"name": "a"}, idempotency_key="x"
            )
            again = await client.request(
                "POST", "/companies", json={"name": "a"}, idempotency_key="x"
            )
            assert isinstance(client.wire, SwitchingWire) and client.wire.lean is lean
            return first.json()["id"], again.json()["id"]

    with serve_sandbox(tmp_path / "s.db") as url:
        first, again = asyncio.run(twice(url))
    assert first == again


def answers_chunked(body: bytes) -> AbstractContextManager[str]:
    """A loopback server that answers every request with `body` in chunks, no Content-Length
    (the read cap cannot trust a declared length)."""
    chunks = b"".join(
        b"%x\r\n%s\r\n" % (len(body[i : i + 1000]), body[i : i + 1000])
        for i in range(0, len(body), 1000)
    )
    return answers_raw(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
        b"Connection: close\r\n\r\n" + chunks + b"0\r\n\r\n"
    )


@pytest.mark.parametrize(("cap", "read"), [(5_000, False), (50_000, True)], ids=["over", "under"])
def test_an_answer_of_no_declared_length_is_read_within_the_cap(
    no_proxies: pytest.MonkeyPatch, lean: bool, cap: int, read: bool
) -> None:
    body = json.dumps(page([company(description="x" * 100) for _ in range(60)])).encode()
    assert 5_000 < len(body) < 50_000

    with answers_chunked(body) as url:
        got = asyncio.run(get_within(url, cap, lean))
    if read:
        assert isinstance(got, Answer) and got.content == body
    else:
        assert isinstance(got, UnexpectedAnswer) and "larger than 5,000" in str(got)
