"""The read-only client: nothing but GET leaves it, shown by the served sandbox's request log."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest

from reconcile.codat import ClientSettings
from reconcile.codat.readonly import GetOnlyWire, ReadOnlyClient, WriteRefused
from reconcile.codat.wire import HttpxWire, Outgoing
from reconcile.sandbox.layers.requestlog import read_log
from tests.audit.fleet import served
from tests.conftest import TEST_API_KEY


def test_every_write_is_refused_before_any_io(tmp_path: Path) -> None:
    with served(tmp_path) as (url, _db, log):

        async def go() -> None:
            async with ReadOnlyClient(TEST_API_KEY, ClientSettings(base_url=url)) as client:
                companies = await client.list_companies()
                assert companies == []
                sent = client.requests_sent
                writes = [
                    client.create_company({"name": "Never"}),
                    client.create_connection("00000000-0000-4000-8000-000000000000", "gbol"),
                    client.delete_company("00000000-0000-4000-8000-000000000000"),
                    client.request("PUT", "/companies/x", json={"name": "x"}),
                    client.request("GET", "/companies", json={"sneaky": True}),
                    client.request_json("PATCH", "/companies/x", json={}),
                ]
                for write in writes:
                    with pytest.raises(WriteRefused, match="nothing was sent"):
                        await write
                # Under `request`, the wire refuses too (a path that bypasses it).
                with pytest.raises(WriteRefused):
                    await client.wire.send(Outgoing("POST", f"{url}/companies", {}, b"{}", 1000))
                with pytest.raises(WriteRefused):  # a GET with a body is no read either
                    await client.wire.send(Outgoing("GET", f"{url}/companies", {}, b"{}", 1000))
                assert client.requests_sent == sent

        asyncio.run(go())
        entries = settled_log(log)
    assert [(e["method"], e["path"]) for e in entries] == [("GET", "/companies")]


def settled_log(log: Path) -> list[dict[str, object]]:
    """The log once the server has written the line of the last answer (after sending it)."""
    deadline = time.monotonic() + 5
    while not read_log(log) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)  # time for any late line (there must be none)
    return read_log(log)


def test_the_wire_guard_wraps_any_transport() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.method)
        return httpx.Response(200, json={"results": [], "totalResults": 0})

    async def go() -> None:
        settings = ClientSettings(base_url="http://127.0.0.1:1")
        client = ReadOnlyClient("k", settings, transport=httpx.MockTransport(handler))
        async with client:
            await client.list_companies()
            with pytest.raises(WriteRefused):
                await client.wire.send(
                    Outgoing("DELETE", "http://127.0.0.1:1/companies/x", {}, None, 9)
                )

    asyncio.run(go())
    assert seen == ["GET"]


def test_an_https_proxy_of_the_environment_is_used_as_plan_uses_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Behind a corporate proxy, audit and export reach Codat as plan does: the read-only lock
    wraps the wire plan has (httpx's, with the environment's proxy). The control: without the
    proxy, neither goes through one."""
    settings = ClientSettings(base_url="https://api.codat.io")

    def proxied(wire: object) -> bool:
        if isinstance(wire, GetOnlyWire):
            wire = wire.inner
        if not isinstance(wire, HttpxWire):
            return False
        return any(t is not None for t in wire.http._mounts.values())

    async def go() -> tuple[bool, bool]:
        async with ReadOnlyClient(TEST_API_KEY, settings) as readonly:
            from reconcile.codat import CodatClient

            async with CodatClient(TEST_API_KEY, settings) as plain:
                return proxied(readonly.wire), proxied(plain.wire)

    for name in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    assert asyncio.run(go()) == (False, False)
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:3128")
    assert asyncio.run(go()) == (True, True)
