"""A plan foresees its expense config reads (`reconcile.facts.configs.configs_foreseen`): while
its listing is read, the client's wire gets ready for them (aiohttp imported in a thread), so
every config read is sent once the move to aiohttp has begun, none of them waiting for it; a
pull request's plan of a few changed customers never imports aiohttp. Through the real client
and a sandbox served on loopback."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from reconcile.codat import ClientSettings, CodatClient
from reconcile.codat import transport as transport_module
from reconcile.codat.transport import SwitchingWire
from reconcile.codat.wire import Answer, Outgoing
from reconcile.export import select, to_customer
from reconcile.facts.configs import configs_foreseen
from reconcile.facts.fleet import owner_filter, read_live
from reconcile.model import DesiredState
from reconcile.sandbox.seed import seed_population
from tests.support.factories import CONFIG, customer
from tests.support.sandbox_server import serve_sandbox

OWNER = "foreseen"
KEY = "foreseen-key"
SWITCH_AFTER = 4  # the run's first requests on httpx (64 by default): a small fleet goes past


class Recording(SwitchingWire):
    """The default wire, noting for each request its path and whether the move had begun."""

    def __init__(self) -> None:
        super().__init__(30.0)
        self.sent: list[tuple[str, bool]] = []

    async def send(self, out: Outgoing) -> Answer:
        self.sent.append((urlsplit(out.url).path, self.importing is not None))
        return await super().send(out)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    db = tmp_path_factory.mktemp("foreseen") / "sandbox.db"
    seed_population(db, 60, OWNER, seed=3, expense_configs=1.0)
    with serve_sandbox(db, "--api-key", KEY) as url:
        yield url


def config_reads(wire: Recording) -> list[bool]:
    return [begun for path, begun in wire.sent if path.endswith("/sync/expenses/config")]


def read(url: str, changed: frozenset[str] | None = None) -> tuple[Recording, int]:
    """A plan's read of the fleet (every managed company a customer, each Linked one with a
    config, as `export` writes them): its wire and the configs it read."""

    async def go() -> tuple[Recording, int]:
        async with CodatClient(KEY, ClientSettings(base_url=url)) as lister:
            companies = await lister.list_companies(tags=owner_filter(OWNER))
        selection = select(OWNER, companies, adopt=False)
        desired = DesiredState(OWNER, tuple(to_customer(e, CONFIG) for e in selection.entries))
        wire = Recording()
        async with CodatClient(KEY, ClientSettings(base_url=url)) as client:
            client.wire = wire
            live = await read_live(client, desired, changed=changed, account=True)
        return wire, len(live.expense_configs)

    return asyncio.run(go())


@pytest.fixture
def small_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(transport_module, "SWITCH_AFTER", SWITCH_AFTER)


@pytest.mark.usefixtures("small_switch")
def test_a_full_plan_sends_every_config_read_once_the_move_to_aiohttp_has_begun(
    served: str,
) -> None:
    wire, configs = read(served)
    reads = config_reads(wire)
    assert configs == len(reads) > 2 * SWITCH_AFTER  # past the switch of a run that did not see
    assert all(reads)
    assert wire.importing is not None


@pytest.mark.usefixtures("small_switch")
def test_control_without_the_foresight_the_first_config_reads_go_before_the_move(
    served: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same read with the plan's foresight taken out: the check above catches it."""
    monkeypatch.setattr(CodatClient, "foresee", lambda self, requests: None)
    wire, configs = read(served)
    reads = config_reads(wire)
    assert configs == len(reads) and not all(reads)
    assert reads[0] is False and reads[-1] is True  # the move began past the first requests


@pytest.mark.usefixtures("small_switch")
def test_a_pull_requests_plan_of_a_few_changes_never_imports_aiohttp(served: str) -> None:
    wire, configs = read(served, changed=frozenset())  # only those that became Linked
    assert configs <= SWITCH_AFTER - 3
    assert wire.importing is None and not wire.lean


def test_the_reads_foreseen_are_the_configured_entries_of_the_run() -> None:
    desired = DesiredState(
        OWNER,
        (
            customer("a", accounting="qhyg", expense_config=CONFIG),
            customer("b", accounting="qhyg", expense_config=CONFIG),
            customer("c", accounting="qhyg"),
        ),
    )
    assert configs_foreseen(desired, None, frozenset()) == 2
    assert configs_foreseen(desired, None, frozenset({"b", "c"})) == 1
    assert configs_foreseen(desired, frozenset({"a"}), frozenset()) == 1
    assert configs_foreseen(desired, frozenset({"c"}), frozenset()) == 0
