"""A hostile or broken Codat cannot exhaust memory: answers are read up to a cap."""

from __future__ import annotations

import asyncio

import pytest

from reconcile.codat import ClientSettings, CodatClient, UnexpectedAnswer
from reconcile.codat.transport import SwitchingWire
from tests.support.hostile_server import Reply, Seen, serve_hostile

CAP = 10_000


def huge(seen: Seen) -> Reply:
    return Reply(200, b"[" + b"1," * 50_000 + b"1]", {"Content-Type": "application/json"})


def small(seen: Seen) -> Reply:
    return Reply(200, {"totalResults": 0, "results": []})


def read(url: str, lean: bool) -> object:
    async def go() -> object:
        settings = ClientSettings(base_url=url, max_answer_bytes=CAP)
        async with CodatClient("k", settings) as client:
            try:
                return await client.request_json("GET", "/companies")
            finally:
                assert isinstance(client.wire, SwitchingWire) and client.wire.lean is lean

    return asyncio.run(go())


def test_an_answer_over_the_cap_is_refused_unread(lean: bool) -> None:
    with serve_hostile(huge) as codat, pytest.raises(UnexpectedAnswer, match="larger than 10,000"):
        read(codat.url, lean)


def test_an_answer_under_the_cap_is_read(lean: bool) -> None:
    with serve_hostile(small) as codat:
        assert read(codat.url, lean) == {"totalResults": 0, "results": []}
