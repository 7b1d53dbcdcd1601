"""The sandbox answers only its user: loopback Host headers, capped bodies, capped filters."""

from __future__ import annotations

import asyncio
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from starlette.types import Message

from reconcile.sandbox.app import create_app
from reconcile.sandbox.options import MAX_BODY_BYTES, SandboxOptions
from reconcile.sandbox.store import Store
from reconcile.sandbox.store.filters import MAX_CONDITIONS, Condition
from tests.conftest import AUTH_HEADERS
from tests.sandbox import conforms, is_error_message
from tests.support.sandbox_server import serve_sandbox

MB = 1024 * 1024


def _port(url: str) -> int:
    port = urlsplit(url).port
    assert port is not None
    return port


# ---------------------------------------------------------------------- hosts


@pytest.mark.parametrize(
    "host",
    [
        "evil.example",
        "evil.example:8765",
        "rebind.attacker.test",
        "127.0.0.1.nip.io",
        "localhost.evil.example",
        "[::2]:8765",
        "0.0.0.0",
        "",
        "127.0.0.1:notaport",
        "user@127.0.0.1",
    ],
)
def test_a_foreign_host_is_refused_before_anything_runs(
    codat: httpx.Client, sandbox_db: Path, host: str
) -> None:
    name = f"Rebinding {host}"
    created = codat.post("/companies", json={"name": name}, headers={"Host": host})
    body = is_error_message(created, 400)
    assert "loopback" in body["error"]
    assert is_error_message(codat.get("/companies", headers={"Host": host}), 400)
    store = Store(sandbox_db)
    try:
        _, found = store.list_companies(query=((Condition("name", "~", "Rebinding"),),))
    finally:
        store.close()
    assert found == 0


def test_a_foreign_host_cannot_open_the_link_page(codat: httpx.Client) -> None:
    company = conforms(codat.post("/companies", json={"name": "Link Host"}), 200)
    page = codat.get(f"/link/companies/{company['id']}", headers={"Host": "evil.example"})
    assert page.status_code == 400
    assert codat.get(f"/link/companies/{company['id']}").status_code == 200


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "[::1]", "127.0.0.2", "LOCALHOST"])
def test_loopback_names_are_accepted_with_any_port(
    codat: httpx.Client, sandbox_url: str, host: str
) -> None:
    port = _port(sandbox_url)
    for with_port in (f"{host}:{port}", host, f"{host}:1"):
        created = codat.post("/companies", json={"name": "Loopback"}, headers={"Host": with_port})
        company = conforms(created, 200)
        connection = conforms(
            codat.post(
                f"/companies/{company['id']}/connections",
                json={"platformKey": "gbol"},
                headers={"Host": with_port},
            ),
            200,
        )
        assert connection["linkUrl"].startswith(f"http://{with_port}/link/")
        assert company["redirect"].startswith(f"http://{with_port}/link/")


def test_in_process_sandbox_answers_its_base_url_only(tmp_path: Path) -> None:
    app = create_app(SandboxOptions(db_path=tmp_path / "s.db"))

    async def get(base_url: str) -> httpx.Response:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url=base_url, headers=AUTH_HEADERS
        ) as client:
            return await client.get("/companies")

    conforms(asyncio.run(get("http://127.0.0.1:8765")), 200)
    is_error_message(asyncio.run(get("http://sandbox.example")), 400)


# ---------------------------------------------------------------------- bodies


def test_a_body_just_over_the_cap_is_413_and_at_the_cap_is_read(codat: httpx.Client) -> None:
    assert MAX_BODY_BYTES == MB
    padding = "x" * (MB - 100)
    at_cap = codat.post("/companies", json={"name": "Big", "description": padding})
    assert at_cap.status_code == 200, at_cap.text
    over = codat.post("/companies", json={"name": "Big", "description": padding + "y" * 200})
    body = is_error_message(over, 413)
    assert str(MB) in body["error"]


def test_a_chunked_body_over_the_cap_is_413(codat: httpx.Client) -> None:
    """No Content-Length: the sandbox counts while it reads."""

    def chunks() -> Iterator[bytes]:
        yield b'{"name": "Chunked", "description": "'
        for _ in range(20):
            yield b"x" * 60_000
        yield b'"}'

    body = is_error_message(codat.post("/companies", content=chunks()), 413)
    assert body["canBeRetried"] == "False"


def test_a_declared_length_over_the_cap_is_413_before_the_body_is_sent(sandbox_url: str) -> None:
    head = (
        f"POST /companies HTTP/1.1\r\nHost: 127.0.0.1:{_port(sandbox_url)}\r\n"
        f"Authorization: {AUTH_HEADERS['Authorization']}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {400 * MB}\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", _port(sandbox_url)), timeout=10) as sock:
        sock.sendall(head.encode())
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b'"statusCode":413' in rest.replace(b" ", b"")


def test_the_cap_counts_chunks_as_they_arrive(tmp_path: Path) -> None:
    """In process: the app pulls only about 1 MB of a 64 MB body before answering 413."""
    app = create_app(SandboxOptions(db_path=tmp_path / "s.db", daily_quota=1000))
    chunk = b"x" * 65536
    total = 1024  # 64 MB if it were all read
    pulled = 0
    sent: list[Message] = []

    async def receive() -> Message:
        nonlocal pulled
        pulled += 1
        return {"type": "http.request", "body": chunk, "more_body": pulled < total}

    async def send(message: Message) -> None:
        sent.append(message)

    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/companies",
        "raw_path": b"/companies",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"127.0.0.1:8765"),
            (b"authorization", AUTH_HEADERS["Authorization"].encode()),
            (b"content-type", b"application/json"),
            (b"transfer-encoding", b"chunked"),
        ],
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8765),
    }

    async def call() -> None:
        await app(scope, receive, send)

    asyncio.run(call())
    assert sent[0]["type"] == "http.response.start" and sent[0]["status"] == 413
    assert pulled <= MB // len(chunk) + 1


def _server_pid(db: Path) -> int:
    """The process id of the sandbox this test process started on `db` (from /proc)."""
    children = [
        int(pid)
        for task in Path("/proc/self/task").iterdir()
        for pid in (task / "children").read_text().split()
    ]
    for pid in children:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        if b"serve" in argv and str(db).encode() in argv:
            return pid
    raise AssertionError(f"no sandbox process serving {db}")


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


def _upload_chunked(port: int, megabytes: int) -> bytes:
    """POST a chunked JSON body of `megabytes` MB; whatever the server answered (maybe nothing)."""
    piece = b"x" * MB
    frame = f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    head = (
        f"POST /companies HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Authorization: {AUTH_HEADERS['Authorization']}\r\n"
        "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    answer = b""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        try:
            sock.sendall(head.encode())
            for _ in range(megabytes):
                sock.sendall(frame)
            sock.sendall(b"0\r\n\r\n")
        except OSError:
            pass  # the server closed the connection once it had refused the body
        try:
            while chunk := sock.recv(65536):
                answer += chunk
        except OSError:
            pass
    return answer


@pytest.mark.skipif(
    not Path(f"/proc/self/task/{os.getpid()}/children").exists(), reason="needs Linux /proc"
)
def test_a_400_mb_upload_does_not_raise_the_servers_memory(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    with (
        serve_sandbox(db, "--daily-quota", "1000") as url,
        httpx.Client(base_url=url, headers=AUTH_HEADERS) as client,
    ):
        pid = _server_pid(db)
        conforms(client.post("/companies", json={"name": "Warm up"}), 200)
        before = _peak_rss_mb(pid)
        started = time.monotonic()
        answer = _upload_chunked(_port(url), 400)
        elapsed = time.monotonic() - started
        after = _peak_rss_mb(pid)
        assert not answer or answer.startswith(b"HTTP/1.1 413"), answer[:200]
        # Still serving, and nothing was created.
        listed = conforms(client.get("/companies"), 200)
    assert after - before < 40, (before, after)
    assert [c["name"] for c in listed["results"]] == ["Warm up"]
    assert elapsed < 30


# ---------------------------------------------------------------------- filters


def test_a_tags_filter_with_too_many_conditions_is_400(codat: httpx.Client) -> None:
    many = "&&".join(f"k{n}=v" for n in range(2000))
    body = is_error_message(codat.get("/companies", params={"tags": many}), 400)
    assert "2000 conditions" in body["error"] and str(MAX_CONDITIONS) in body["error"]
    at_limit = "&&".join(f"k{n}!=v" for n in range(MAX_CONDITIONS))
    conforms(codat.get("/companies", params={"tags": at_limit, "pageSize": 1}), 200)
    over = "&&".join(f"k{n}=v" for n in range(MAX_CONDITIONS + 1))
    is_error_message(codat.get("/companies", params={"tags": over}), 400)


def test_a_query_with_too_many_conditions_is_400(codat: httpx.Client) -> None:
    many = "||".join(f"name=n{n}" for n in range(2000))
    body = is_error_message(codat.get("/companies", params={"query": many}), 400)
    assert "2000 conditions" in body["error"]
    at_limit = "||".join(f"name=n{n}" for n in range(MAX_CONDITIONS))
    conforms(codat.get("/companies", params={"query": at_limit}), 200)
