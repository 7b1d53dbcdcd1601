"""The outbox: requests begun and not yet on the network (`reconcile.codat.outbox`), and the wires
that say when a request is written (httpcore's trace of a real connection; handed over, for a
transport with no network)."""

from __future__ import annotations

import asyncio
import contextlib
import threading

import httpx
import pytest

from reconcile.codat import ClientSettings, CodatClient, CodatTransportError
from reconcile.codat.outbox import Outbox
from reconcile.codat.wire import HttpxWire, Outgoing
from tests.support.hostile_server import Reply, Seen, companies_route, page, serve_hostile

WAIT = 5.0  # seconds: only a broken wait takes this long


def test_the_wait_ends_once_every_request_begun_is_written() -> None:
    async def scenario() -> list[str]:
        box, said = Outbox(), []
        first, second = box.begin(), box.begin()
        waiter = asyncio.ensure_future(box.written(2))
        await asyncio.sleep(0)
        first()
        first()  # again: counts once
        await asyncio.sleep(0)
        said.append(f"one left: done={waiter.done()} unwritten={box.unwritten}")
        second()
        await asyncio.wait_for(waiter, WAIT)
        said.append(f"all written: begun={box.begun} unwritten={box.unwritten}")
        return said

    assert asyncio.run(scenario()) == [
        "one left: done=False unwritten=1",
        "all written: begun=2 unwritten=0",
    ]


def test_the_wait_also_waits_for_requests_not_begun_yet() -> None:
    """Tasks start on the loop's next step: a caller names how many it expects begun."""

    async def scenario() -> tuple[bool, bool]:
        box = Outbox()
        waiter = asyncio.ensure_future(box.written(1))
        await asyncio.sleep(0)
        before = waiter.done()  # nothing begun, nothing to write: still waits for the one
        box.begin()()
        await asyncio.wait_for(waiter, WAIT)
        return before, waiter.done()

    assert asyncio.run(scenario()) == (False, True)


def test_a_network_request_is_written_before_its_answer_arrives() -> None:
    """httpcore's trace says when the body is written: long before a held answer."""
    release = threading.Event()

    def answer(seen: Seen) -> Reply:
        release.wait(WAIT)
        return Reply(200, page([]))

    async def scenario(url: str) -> tuple[bool, bool]:
        written = asyncio.Event()
        wire = HttpxWire(httpx.AsyncClient(), traced=True)
        try:
            sending = asyncio.ensure_future(
                wire.send(Outgoing("GET", url + "/companies", {}, None, 1 << 20, written.set))
            )
            await asyncio.wait_for(written.wait(), WAIT)
            answered_first = sending.done()
            release.set()
            answer_ = await asyncio.wait_for(sending, WAIT)
            return answered_first, answer_.status_code == 200
        finally:
            release.set()
            await wire.aclose()

    with serve_hostile(companies_route(answer)) as codat:
        assert asyncio.run(scenario(codat.url)) == (False, True)


def test_a_transport_with_no_network_counts_as_written_when_handed_over() -> None:
    said: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        said.append("answered")
        return httpx.Response(200, json=page([]))

    async def scenario() -> None:
        wire = HttpxWire(httpx.AsyncClient(transport=httpx.MockTransport(handler)))
        url = "http://codat.test/companies"
        await wire.send(Outgoing("GET", url, {}, None, 1 << 20, lambda: said.append("written")))
        await wire.aclose()

    asyncio.run(scenario())
    assert said == ["written", "answered"]


@pytest.mark.parametrize("fails", [False, True])
def test_the_client_counts_each_request_until_it_is_written_or_ends(fails: bool) -> None:
    """Written, answered or failed: no request is waited for forever."""

    def handler(request: httpx.Request) -> httpx.Response:
        if fails:
            raise httpx.ConnectError("refused")
        return httpx.Response(200, json=page([]))

    async def scenario() -> tuple[int, int]:
        settings = ClientSettings(base_url="https://codat.test", max_attempts=1)
        async with CodatClient("k", settings, transport=httpx.MockTransport(handler)) as client:
            with contextlib.suppress(CodatTransportError):  # the failure is the point
                await client.list_companies()
            await asyncio.wait_for(client.outbox.written(1), WAIT)
            return client.outbox.begun, client.outbox.unwritten

    assert asyncio.run(scenario()) == (1, 0)


def test_a_request_whose_connection_is_refused_is_never_said_written_by_the_wire() -> None:
    """The control of the trace: written means on the network, not handed to httpx."""
    import socket

    with socket.socket() as closed:  # a loopback port nobody listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    said: list[str] = []

    async def scenario() -> None:
        wire = HttpxWire(httpx.AsyncClient(), traced=True)
        try:
            with pytest.raises(httpx.ConnectError):
                url = f"http://127.0.0.1:{port}/companies"
                await wire.send(
                    Outgoing("GET", url, {}, None, 1 << 20, lambda: said.append("written"))
                )
        finally:
            await wire.aclose()

    asyncio.run(scenario())
    assert said == []
