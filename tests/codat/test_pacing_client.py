"""The client paces every attempt (`CodatClient.request` asks its `Pacer` first, retries
included): one 429 with a `Retry-After` holds the other requests' next attempts too; a turn past
the deadline is `DeadlineExceeded` and never sent. A fake transport on virtual time
(`tests.support.virtual_time`): exact times, no wall-clock sleep."""

from __future__ import annotations

import asyncio
from collections import defaultdict

import httpx
import pytest

from reconcile.codat import ClientSettings, CodatClient, DeadlineExceeded
from reconcile.codat.pacing import Pacer
from tests.support.virtual_time import clock, run_virtual

URL = "http://127.0.0.1:9"
OK = {"id": "x"}


def client(
    handler: httpx.MockTransport, pacer: Pacer, deadline: float | None = None
) -> CodatClient:
    return CodatClient(
        "k",
        ClientSettings(base_url=URL, deadline=deadline, backoff_base=0.0),
        transport=handler,
        sleep=asyncio.sleep,
        pacer=pacer,
    )


def burst(first_answer_of_a: int) -> dict[str, list[float]]:
    """Three GETs in flight at once: /a answers first (at 0.1 s) with `first_answer_of_a`, /b and
    /c answer 503 at 0.5 s (then 200). When each attempt of each path was sent."""
    sent: dict[str, list[float]] = defaultdict(list)

    async def handle(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        sent[path].append(clock())
        first = len(sent[path]) == 1
        if path == "/a":
            await asyncio.sleep(0.1)
            if first and first_answer_of_a == 429:
                error = {"statusCode": 429, "error": "Too many requests"}
                return httpx.Response(429, json=error, headers={"Retry-After": "2"})
            return httpx.Response(200, json=OK)
        await asyncio.sleep(0.5)
        return httpx.Response(503 if first else 200, json=OK)

    async def main() -> None:
        async with client(httpx.MockTransport(handle), Pacer(None, clock=clock)) as codat:
            await asyncio.gather(*(codat.request("GET", p) for p in ("/a", "/b", "/c")))

    run_virtual(main)
    return dict(sent)


def test_a_429_with_retry_after_holds_every_next_attempt() -> None:
    sent = burst(429)
    assert sent["/a"] == pytest.approx([0.0, 2.1])  # its own retry: the Retry-After
    # /b and /c failed at 0.5, inside the pause: their retries wait for its end too.
    assert sent["/b"] == pytest.approx([0.0, 2.1])
    assert sent["/c"] == pytest.approx([0.0, 2.1])


def test_control_without_a_429_the_others_retry_at_once() -> None:
    sent = burst(200)
    assert sent["/a"] == pytest.approx([0.0])
    assert sent["/b"] == pytest.approx([0.0, 0.5])
    assert sent["/c"] == pytest.approx([0.0, 0.5])


def test_every_attempt_is_paced_retries_included() -> None:
    """At 2 a minute, a 503 then 200 pair and a second request: the retry is the second start,
    the other request the third, a minute later."""
    sent: list[tuple[str, float]] = []

    async def handle(request: httpx.Request) -> httpx.Response:
        sent.append((request.url.path, clock()))
        status = 503 if len(sent) == 1 else 200
        return httpx.Response(status, json=OK)

    async def main() -> None:
        async with client(httpx.MockTransport(handle), Pacer(2, clock=clock)) as codat:
            await codat.request("GET", "/a")
            await codat.request("GET", "/b")

    run_virtual(main)
    assert sent == [("/a", 0.0), ("/a", 0.0), ("/b", 60.0)]


def test_a_turn_past_the_deadline_is_deadline_exceeded_and_not_sent() -> None:
    sent: list[str] = []

    async def handle(request: httpx.Request) -> httpx.Response:
        sent.append(request.url.path)
        return httpx.Response(200, json=OK)

    async def main() -> tuple[BaseException | None, int, float]:
        # The deadline is the wall clock's (30 s from now); the pacer's turn comes a virtual
        # minute later: past it.
        async with client(
            httpx.MockTransport(handle), Pacer(2, clock=clock), deadline=30.0
        ) as codat:
            await codat.request("GET", "/a")
            await codat.request("GET", "/b")
            try:
                await codat.request("GET", "/c")
            except DeadlineExceeded as exc:
                return exc, codat.requests_sent, clock()
            return None, codat.requests_sent, clock()

    error, requests_sent, ended = run_virtual(main)
    assert isinstance(error, DeadlineExceeded)
    assert sent == ["/a", "/b"] and requests_sent == 2
    assert ended == 0.0  # refused at once, without waiting


def test_the_client_paces_codat_by_default_and_not_a_loopback_sandbox() -> None:
    assert CodatClient("k").pacer.per_window == 1000
    assert CodatClient("k", ClientSettings(base_url=URL)).pacer.per_window is None
    paced = ClientSettings(base_url=URL, requests_per_minute=30)
    assert CodatClient("k", paced).pacer.per_window == 30
