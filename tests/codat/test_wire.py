"""The key never leaves in clear, errors say what to do, the quota stops at once, ids stay in
their path segment (issue 10 points 5 and 7, issue 11 point 1)."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from reconcile.codat import (
    ClientSettings,
    CodatClient,
    CodatHTTPError,
    CodatTransportError,
    ConfigError,
    QuotaExhausted,
    UnexpectedAnswer,
)
from reconcile.codat.client import check_base_url
from tests.support.hostile_server import Reply, Route, Seen, company, not_found, page, serve_hostile
from tests.support.sandbox_server import serve_sandbox

SECRET = "s3cret-key-never-shown"


class Listener:
    """A loopback TCP listener that records whatever is sent to it and answers nothing."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.received = b""
        self.connections = 0
        self._lock = threading.Lock()

    def serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with self._lock:
                self.connections += 1
            conn.settimeout(0.5)
            try:
                while chunk := conn.recv(65536):
                    with self._lock:
                        self.received += chunk
            except OSError:
                pass
            finally:
                conn.close()


@contextmanager
def listener() -> Iterator[Listener]:
    it = Listener()
    threading.Thread(target=it.serve, daemon=True).start()
    try:
        yield it
    finally:
        it.sock.close()


def run_list(url: str, **settings: Any) -> object:
    async def go() -> object:
        async with CodatClient(SECRET, ClientSettings(base_url=url, **settings)) as client:
            try:
                return await client.list_companies()
            except Exception as exc:
                return exc

    return asyncio.run(go())


# ---------------------------------------------------------------------- the key and proxies


def test_plain_http_never_goes_through_a_proxy_from_the_environment(
    no_proxies: pytest.MonkeyPatch,
) -> None:
    with listener() as proxy, serve_hostile(lambda seen: Reply(200, page([]))) as codat:
        for name in ("HTTP_PROXY", "ALL_PROXY", "http_proxy", "all_proxy"):
            no_proxies.setenv(name, f"http://127.0.0.1:{proxy.port}")
        got = run_list(codat.url, timeout=2, max_attempts=1)
    assert got == []
    assert proxy.connections == 0 and proxy.received == b""
    assert codat.requests[0].headers["Authorization"].startswith("Basic ")


def test_https_keeps_the_proxy_but_the_key_stays_inside_tls(
    no_proxies: pytest.MonkeyPatch,
) -> None:
    """What users expect behind a corporate proxy: a CONNECT tunnel; the key is not in it."""
    with listener() as proxy:
        no_proxies.setenv("HTTPS_PROXY", f"http://127.0.0.1:{proxy.port}")
        got = run_list("https://api.codat.io", timeout=1, max_attempts=1)
    assert isinstance(got, CodatTransportError)
    assert proxy.received.startswith(b"CONNECT api.codat.io:443")
    assert b"Authorization" not in proxy.received and SECRET.encode() not in proxy.received


@pytest.mark.parametrize(
    "url", ["https://user:pw-secret@api.codat.io", "http://k:pw-secret@127.0.0.1:9", "https://@x"]
)
def test_a_base_url_with_user_info_is_refused(url: str) -> None:
    with pytest.raises(ConfigError) as err:
        check_base_url(url)
    assert "user info" in str(err.value) and "pw-secret" not in str(err.value)


# ---------------------------------------------------------------------- errors say what to do


def test_a_401_names_the_key_to_check(tmp_path: Path) -> None:
    with serve_sandbox(tmp_path / "s.db", "--api-key", "the-right-one") as url:
        got = run_list(url)
    assert isinstance(got, CodatHTTPError) and got.status == 401
    assert "check CODAT_API_KEY (or the file CODAT_API_KEY_FILE names)" in str(got)
    assert SECRET not in str(got)


def test_unreachable_codat_names_the_url_and_how_long_it_tried() -> None:
    with socket.create_server(("127.0.0.1", 0)) as sock:
        port = sock.getsockname()[1]  # closed again below: nothing listens there
    url = f"http://127.0.0.1:{port}"
    got = run_list(url, max_attempts=3, backoff_base=0.01, backoff_cap=0.02)
    assert isinstance(got, CodatTransportError)
    message = str(got)
    assert f"no response from Codat at {url} after 3 attempts over " in message
    assert "ConnectError" in message and "CODAT_BASE_URL" in message
    assert SECRET not in message


def test_a_timeout_names_the_url_and_how_long_it_tried(no_proxies: pytest.MonkeyPatch) -> None:
    with listener() as silent:
        url = f"http://127.0.0.1:{silent.port}"
        got = run_list(url, timeout=0.3, max_attempts=1)
    assert isinstance(got, CodatTransportError)
    assert f"at {url} after 1 attempt over 0." in str(got) and "ReadTimeout" in str(got)


# ---------------------------------------------------------------------- quota


def test_quota_used_up_stops_at_once_against_the_sandbox(tmp_path: Path) -> None:
    waits: list[float] = []

    async def no_wait(seconds: float) -> None:
        waits.append(seconds)

    async def go(url: str) -> None:
        settings = ClientSettings(base_url=url)  # the default retries: 6 attempts, 30 s cap
        async with CodatClient(SECRET, settings, sleep=no_wait) as client:
            remaining = []
            for _ in range(5):
                await client.list_companies()
                remaining.append(client.rate_limit_remaining)
            assert remaining == [4, 3, 2, 1, 0]
            assert client.rate_limit_limit == 5
            started = time.monotonic()
            with pytest.raises(QuotaExhausted) as err:
                await client.list_companies()
            assert time.monotonic() - started < 2
            today = datetime.now(UTC).date()
            midnight = datetime(today.year, today.month, today.day, tzinfo=UTC) + timedelta(1)
            assert err.value.limit == 5 and err.value.resets_at == midnight
            assert client.rate_limit_reset == midnight
            reset = (
                f"{midnight:%Y-%m-%d %H:%M} UTC ({midnight.astimezone():%Y-%m-%d %H:%M} local time)"
            )
            assert f"daily quota of 5 requests is used up; it resets at {reset}" in str(err.value)
            assert isinstance(err.value, CodatHTTPError) and err.value.status == 429

    with serve_sandbox(tmp_path / "s.db", "--daily-quota", "5") as url:
        asyncio.run(go(url))
    assert waits == []  # not one retry


def quota_route(retry_after: str, remaining: str) -> tuple[list[Seen], Route]:
    seen_list: list[Seen] = []

    def route(seen: Seen) -> Reply:
        seen_list.append(seen)
        if len(seen_list) == 1:
            headers = {"Retry-After": retry_after, "X-Rate-Limit-Remaining": remaining}
            return Reply(429, {"statusCode": 429, "error": "Too many requests"}, headers)
        return Reply(200, page([]), {"X-Rate-Limit-Remaining": "41"})

    return seen_list, route


def test_remaining_quota_is_the_least_said_within_a_day() -> None:
    """Answers to requests in flight together arrive in any order: an older answer's higher
    `X-Rate-Limit-Remaining` never raises what the client believes is left that day; a new day's
    does (control)."""
    said = iter(
        [
            ("7", "2026-12-06T00:00:00Z"),
            ("9", "2026-12-06T00:00:00Z"),
            ("8", "2026-12-06T00:00:00Z"),
            ("999", "2026-12-07T00:00:00Z"),
        ]
    )

    def route(seen: Seen) -> Reply:
        remaining, reset = next(said)
        headers = {"X-Rate-Limit-Remaining": remaining, "X-Rate-Limit-Reset": reset}
        return Reply(200, page([]), headers)

    async def go(url: str) -> list[int | None]:
        async with CodatClient(SECRET, ClientSettings(base_url=url)) as client:
            seen = []
            for _ in range(4):
                await client.list_companies()
                seen.append(client.rate_limit_remaining)
            return seen

    with serve_hostile(route) as codat:
        assert asyncio.run(go(codat.url)) == [7, 7, 7, 999]


@pytest.mark.parametrize(
    ("retry_after", "remaining", "quota"),
    [("3600", "12", True), ("1", "0", True), ("1", "12", False), ("149", "12", False)],
)
def test_a_429_is_the_quota_when_remaining_is_0_or_the_wait_exceeds_the_budget(
    retry_after: str, remaining: str, quota: bool
) -> None:
    waits: list[float] = []

    async def no_wait(seconds: float) -> None:
        waits.append(seconds)

    async def go(url: str) -> object:
        async with CodatClient(SECRET, ClientSettings(base_url=url), sleep=no_wait) as client:
            try:
                return await client.list_companies()
            except QuotaExhausted as exc:
                return exc

    requests, route = quota_route(retry_after, remaining)
    with serve_hostile(route) as codat:
        got = asyncio.run(go(codat.url))
    if quota:
        assert isinstance(got, QuotaExhausted) and waits == [] and len(requests) == 1
        assert got.resets_at is not None
    else:
        assert got == [] and len(waits) == 1 and len(requests) == 2


# ---------------------------------------------------------------------- paths


@pytest.mark.parametrize(
    ("company_id", "sent"),
    [
        (
            "../../companies/x/connections/y#",
            "/companies/..%2F..%2Fcompanies%2Fx%2Fconnections%2Fy%23",
        ),
        ("..", "/companies/%2E%2E"),
        ("a?b=c", "/companies/a%3Fb%3Dc"),
    ],
)
def test_an_id_stays_in_its_path_segment(company_id: str, sent: str) -> None:
    async def go(url: str) -> None:
        async with CodatClient(SECRET, ClientSettings(base_url=url, max_attempts=1)) as client:
            with pytest.raises(CodatHTTPError):
                await client.get_company(company_id)

    with serve_hostile(not_found) as codat:
        asyncio.run(go(codat.url))
    assert [r.path for r in codat.requests] == [sent]
    assert codat.requests[0].query == {}


def test_typed_reads_check_the_answer_is_about_what_was_asked() -> None:
    asked, conn_id = str(uuid.uuid4()), str(uuid.uuid4())
    other = company()

    def route(seen: Seen) -> Reply:
        if seen.path.endswith("/connections/" + conn_id):
            return Reply(200, {"id": str(uuid.uuid4()), "status": "Linked"})
        return Reply(200, other)

    async def go(url: str) -> None:
        async with CodatClient(SECRET, ClientSettings(base_url=url)) as client:
            with pytest.raises(UnexpectedAnswer, match=f"id is {other['id']}, not"):
                await client.get_company(asked)
            with pytest.raises(UnexpectedAnswer, match=r"not the .* asked for"):
                await client.get_connection(asked, conn_id)

    with serve_hostile(route) as codat:
        asyncio.run(go(codat.url))
