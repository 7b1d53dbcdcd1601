"""When the default wire moves from httpx's own transport to aiohttp (`SwitchingWire`): after a
run's first requests, or, once the run foresees more than that, as soon as aiohttp is imported;
the import runs in a worker thread, so the loop goes on meanwhile. Real servers on loopback."""

from __future__ import annotations

import asyncio
import importlib
import sys
import threading

import pytest

from reconcile.codat import ClientSettings, CodatClient
from reconcile.codat import transport as transport_module
from reconcile.codat.transport import SwitchingWire
from tests.support.hostile_server import Reply, page, serve_hostile


def carried(wire: SwitchingWire, requests: int, foreseen: int | None = None) -> list[bool]:
    """Whether aiohttp carried each of `requests` GETs through `wire`; with `foreseen`, the run
    foresees that many more after its first request (and waits for the import it starts)."""

    async def run(url: str) -> list[bool]:
        found = []
        async with CodatClient("k", ClientSettings(base_url=url)) as client:
            client.wire = wire
            for sent in range(requests):
                if sent == 1 and foreseen is not None:
                    client.foresee(foreseen)
                    if wire.importing is not None:
                        await asyncio.shield(wire.importing)
                answer = await client.request("GET", "/companies")
                assert answer.json()["results"] == []
                found.append(wire.lean)
        return found

    with serve_hostile(lambda seen: Reply(200, page([]))) as codat:
        found = asyncio.run(run(codat.url))
    assert len(codat.requests) == requests
    return found


@pytest.mark.parametrize("installed", [True, False], ids=["aiohttp", "no-aiohttp"])
def test_a_run_moves_to_aiohttp_after_its_first_requests(
    no_proxies: pytest.MonkeyPatch, installed: bool
) -> None:
    """Requests 1..N on httpx's own transport, N+1 on aiohttp; without aiohttp, httpx's
    throughout (the control: the same run, nothing to move to)."""
    no_proxies.setattr(transport_module, "_aiohttp_installed", lambda: installed)
    wire = SwitchingWire(30.0, switch_after=3)
    assert carried(wire, 5) == [False, False, False, installed, installed]


def test_an_aiohttp_that_fails_to_import_leaves_httpx_carrying_the_run(
    no_proxies: pytest.MonkeyPatch,
) -> None:
    """Found but broken (the import fails in its thread): httpx's own transport throughout,
    past the switch too (the test above is the control: the same run moves)."""
    assert transport_module._import_aiohttp() is True
    no_proxies.setitem(sys.modules, "aiohttp", None)  # what a failing import meets
    assert transport_module._import_aiohttp() is False
    no_proxies.setattr(transport_module, "_aiohttp_installed", lambda: True)  # found, though
    wire = SwitchingWire(30.0, switch_after=1)
    assert carried(wire, 3) == [False, False, False]
    assert wire.importing is not None  # it was tried


@pytest.mark.parametrize(
    ("foreseen", "installed", "expected"),
    [
        (2000, True, [False, True, True]),
        (5, True, [False, False, False]),  # the control: too few to be worth the import
        (2000, False, [False, False, False]),  # the control: nothing to move to
    ],
    ids=["many", "few", "no-aiohttp"],
)
def test_a_run_that_foresees_many_requests_moves_once_aiohttp_is_imported(
    no_proxies: pytest.MonkeyPatch, foreseen: int, installed: bool, expected: list[bool]
) -> None:
    """Far before its `switch_after`-th request, a run that foresees more than that many moves
    to aiohttp from the first request after the import; one that foresees few never imports it."""
    no_proxies.setattr(transport_module, "_aiohttp_installed", lambda: installed)
    wire = SwitchingWire(30.0, switch_after=1000)
    assert carried(wire, 3, foreseen) == expected
    assert (wire.importing is not None) is expected[-1]


@pytest.mark.parametrize("how", ["foreseen", "past-switch"])
def test_the_import_of_aiohttp_leaves_the_loop_running(
    no_proxies: pytest.MonkeyPatch, how: str
) -> None:
    """The import waits for a callback of the loop: it sees it, because it runs in a worker
    thread, whether a run foresaw many requests or went past its first ones; a request is not
    held up by a foreseen import."""
    loop_ran = threading.Event()
    seen: list[bool] = []

    def import_aiohttp() -> bool:
        seen.append(loop_ran.wait(timeout=30))
        return importlib.import_module("aiohttp") is not None

    no_proxies.setattr(transport_module, "_import_aiohttp", import_aiohttp)

    async def run(url: str) -> bool:
        wire = SwitchingWire(30.0, switch_after=0 if how == "past-switch" else 1000)
        async with CodatClient("k", ClientSettings(base_url=url)) as client:
            client.wire = wire
            if how == "foreseen":
                client.foresee(2000)
            sent = asyncio.ensure_future(client.request("GET", "/companies"))
            await asyncio.sleep(0)  # the request is under way (and the import, past the switch)
            asyncio.get_running_loop().call_soon(loop_ran.set)
            await sent
            lean = wire.lean
            assert wire.importing is not None
            await asyncio.shield(wire.importing)
            return lean

    with serve_hostile(lambda seen: Reply(200, page([]))) as codat:
        lean = asyncio.run(run(codat.url))
    assert seen == [True]
    # Foreseen, the request went on through httpx meanwhile; past the switch, it waited (the
    # loop going on) and went through aiohttp.
    assert lean is (how == "past-switch")


def test_control_an_import_on_the_loops_thread_never_sees_the_loop_run() -> None:
    """The same wait, on the loop's own thread (as a synchronous import would be): the callback
    cannot run before it ends."""
    loop_ran = threading.Event()

    async def run() -> bool:
        asyncio.get_running_loop().call_soon(loop_ran.set)
        return loop_ran.wait(timeout=0.2)

    assert asyncio.run(run()) is False


def test_prepare_builds_httpx_transport_and_sends_nothing() -> None:
    """`prepare` imports what the first request needs (httpcore, which httpx leaves to its
    transport) and sends nothing; in a fresh interpreter, with the control before it."""
    probe = (
        "import sys\n"
        "from reconcile.codat.transport import SwitchingWire\n"
        "wire = SwitchingWire(30.0)\n"
        "before = 'httpcore' in sys.modules\n"
        "wire.prepare(sys.argv[1])\n"
        "print(before, 'httpcore' in sys.modules)\n"
    )
    import subprocess

    with serve_hostile(lambda seen: Reply(200, page([]))) as codat:
        done = subprocess.run(
            [sys.executable, "-c", probe, codat.url], capture_output=True, text=True, check=True
        )
    assert done.stdout.split() == ["False", "True"]
    assert codat.requests == []
