"""`listing_written`: a plan waits for its listing's first requests to be on the network before
it builds its model, never longer than it says, and not at all once the listing ended."""

from __future__ import annotations

import asyncio
import time

import httpx

from reconcile.codat import ClientSettings, CodatClient
from reconcile.facts.fleet import Listing, listing_written
from reconcile.model import Company


def unanswered(request: httpx.Request) -> httpx.Response:  # pragma: no cover - never sent
    raise AssertionError("nothing is sent here")


def client() -> CodatClient:
    settings = ClientSettings(base_url="https://codat.test")
    return CodatClient("k", settings, transport=httpx.MockTransport(unanswered))


def test_a_request_never_written_is_waited_for_only_as_long_as_asked() -> None:
    async def scenario() -> float:
        codat = client()
        codat.outbox.begin()  # begun, and held (its pace, its handshake): never written here
        never: asyncio.Future[list[Company]] = asyncio.get_running_loop().create_future()
        listing = Listing("o", never, 0, first=1)
        started = time.monotonic()
        await listing_written(codat, listing, 0.2)
        never.cancel()
        await codat.aclose()
        return time.monotonic() - started

    waited = asyncio.run(scenario())
    assert 0.15 <= waited < 3.0


def test_a_listing_that_ended_is_not_waited_for() -> None:
    async def scenario() -> float:
        codat = client()
        ended: asyncio.Future[list[Company]] = asyncio.get_running_loop().create_future()
        ended.set_exception(RuntimeError("the listing failed before its requests were written"))
        listing = Listing("o", ended, 0, first=3)
        started = time.monotonic()
        await listing_written(codat, listing, 30.0)
        ended.exception()  # retrieved: the caller's read reports it
        await codat.aclose()
        return time.monotonic() - started

    assert asyncio.run(scenario()) < 3.0
