"""What a resync costs (issue 27): the watch's passes run in process against a served sandbox,
every request counted in the sandbox's own log, the sweep's and the budget's clocks injected.

A resync with no change reads only the listing; a listing change reads only that company; a
webhook's pass reads only its company (and the next resync does not read it again); the config
sweep reads every configured customer once per sweep period, a slice per resync; past the
request budget the sweep slows (and says so) while a webhook's company is still read."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs

import pytest

from reconcile import paths
from reconcile.codat import ClientSettings, CodatClient
from reconcile.desired import load
from reconcile.executor import Stopper
from reconcile.model import DesiredState
from reconcile.sandbox.store import Store
from reconcile.watch.budget import Budget, BudgetSetting
from reconcile.watch.passes import pass_runner
from reconcile.watch.resync import ResyncReads
from reconcile.watch.sweep import ConfigSweep
from tests.conftest import TEST_API_KEY
from tests.support.cli import reconcile
from tests.watch.helpers import Codat, served_codat

pytestmark = pytest.mark.slow

OWNER = "sweep-test"
CUSTOMERS = 6
RESYNC = 600.0  # the watch's default --resync, 10 minutes
CONFIG = '{bankAccount: "89", supplier: "124", customer: "140"}'


def fleet_file(path: Path, count: int = CUSTOMERS) -> Path:
    customers = "".join(
        f"  - uid: s-{i}\n    name: Swept {i}\n    accounting: quickbooks-online\n"
        f"    expenses: true\n    expenseConfig: {CONFIG}\n"
        for i in range(count)
    )
    path.write_text(f"version: 1\nowner: {OWNER}\ncustomers:\n{customers}", encoding="utf-8")
    return path


def configured_fleet(directory: Path) -> Path:
    """Every customer Linked, with its partner expense connection and its expense config (applied
    in process: no quota there)."""
    desired, db = fleet_file(directory / "customers.yaml"), directory / "sandbox.db"
    first = reconcile("apply", str(desired), "--sandbox-db", str(db), "--auto-approve")
    assert first.returncode == 0, first.stderr
    store = Store(db)
    try:
        for company in store.find_companies_by_tag("reconcile.owner", OWNER):
            for connection in company["dataConnections"]:
                store.set_connection_status(company["id"], connection["id"], "Linked")
    finally:
        store.close()
    second = reconcile("apply", str(desired), "--sandbox-db", str(db), "--auto-approve")
    assert second.returncode == 0, second.stderr
    assert "set expense config" in second.stdout + second.stderr
    return desired


@dataclass
class Ticks:
    """An injected monotonic clock."""

    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Day:
    """An injected UTC clock."""

    now: datetime = field(default_factory=lambda: datetime(2026, 12, 1, 9, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Watching:
    """The watch's passes on their own client, with injected clocks."""

    codat: Codat
    desired: DesiredState
    client: CodatClient
    ticks: Ticks
    day: Day
    reads: ResyncReads
    logged: list[str]

    def __post_init__(self) -> None:
        self.runner = pass_runner(self.client, self.reads)

    def mark(self) -> int:
        return len(self.codat.requests())

    def requests(self, since: int) -> list[str]:
        return [f"{r['method']} {r['path']}" for r in self.codat.requests()[since:]]

    async def run(self, company_ids: frozenset[str] | None = None, *, full: bool) -> list[str]:
        """One pass; the requests it sent."""
        mark = self.mark()
        await self.runner(self.desired, company_ids, Stopper(), full)
        return self.requests(mark)

    async def resync(self, seconds: float = RESYNC) -> list[str]:
        """Time passes, then a resync; the requests it sent."""
        self.ticks.now += seconds
        self.day.now += timedelta(seconds=seconds)
        return await self.run(full=False)


@asynccontextmanager
async def watching(
    codat: Codat, desired_path: Path, sweep: float = 86_400.0, budget: str = "10%"
) -> AsyncIterator[Watching]:
    ticks, day = Ticks(), Day()
    logged: list[str] = []
    async with CodatClient(TEST_API_KEY, ClientSettings(base_url=codat.url)) as client:
        spend = Budget(BudgetSetting.parse(budget), lambda: client.requests_sent, clock=day)
        reads = ResyncReads(ConfigSweep(sweep, ticks), spend, RESYNC, logged.append)
        yield Watching(codat, load([desired_path]), client, ticks, day, reads, logged)


def config_reads(requests: list[str]) -> list[str]:
    """The companies whose expense config these requests read."""
    return [r.split("/")[2] for r in requests if r.startswith("GET ") and r.endswith("/config")]


LISTING = f"GET {paths.companies()}"


def company_ids(db: Path) -> dict[str, str]:
    """uid -> company id, read from the store (not through the served API: the request log
    holds the watch's requests only)."""
    store = Store(db)
    try:
        return {
            c["tags"]["reconcile.uid"]: c["id"]
            for c in store.find_companies_by_tag("reconcile.owner", OWNER)
        }
    finally:
        store.close()


def put_error(db: Path, company_id: str) -> None:
    """The platform fails for one company: its accounting connection carries an Active error
    (a listing change the planner writes nothing for)."""
    store = Store(db)
    try:
        company = store.get_company(company_id)
        assert company is not None
        (accounting,) = [c for c in company["dataConnections"] if c["sourceType"] == "Accounting"]
        store.add_connection_error(company_id, accounting["id"], "Token expired", status_code="401")
    finally:
        store.close()


def test_a_resync_reads_the_listing_and_only_what_changed(tmp_path: Path) -> None:
    desired = configured_fleet(tmp_path)
    ids = company_ids(tmp_path / "sandbox.db")
    with served_codat(tmp_path) as codat:

        async def go() -> None:
            async with watching(codat, desired) as watch:
                # The control: the start's full pass reads every config.
                first = await watch.run(full=True)
                assert sorted(config_reads(first)) == sorted(ids.values())
                # Nothing changed: three resyncs, one listing request each, nothing else.
                for _ in range(3):
                    assert await watch.resync() == [LISTING]
                # One company's listing changes: the resync reads that company's config only.
                changed = ids["s-3"]
                put_error(codat.db, changed)
                after = await watch.resync()
                assert after[0] == LISTING and config_reads(after) == [changed]
                assert all(r == LISTING or f"/companies/{changed}/" in r for r in after), after
                assert await watch.resync() == [LISTING]  # seen: not read again

        asyncio.run(go())


def test_a_webhook_s_pass_reads_only_its_company(tmp_path: Path) -> None:
    desired = configured_fleet(tmp_path)
    ids = company_ids(tmp_path / "sandbox.db")
    with served_codat(tmp_path) as codat:

        async def go() -> None:
            async with watching(codat, desired) as watch:
                await watch.run(full=True)
                hinted = ids["s-1"]
                put_error(codat.db, hinted)  # what the webhook announces
                mark = watch.mark()
                await watch.runner(watch.desired, frozenset({hinted}), Stopper(), False)
                sent = watch.codat.requests()[mark:]
                assert sent, "the webhook's pass read nothing"
                for request in sent:
                    about = request["path"].startswith(f"/companies/{hinted}/")
                    tags = parse_qs(request["query"]).get("tags")
                    twins = request["path"] == "/companies" and tags == ["reconcile.uid=s-1"]
                    assert about or twins or request["path"] == f"/companies/{hinted}", request
                assert config_reads(watch.requests(mark)) == [hinted]
                # The webhook's pass read it fresh: the next resync does not read it again.
                assert await watch.resync() == [LISTING]

        asyncio.run(go())


def test_the_sweep_reads_every_config_once_per_period_a_slice_per_resync(tmp_path: Path) -> None:
    desired = configured_fleet(tmp_path)
    ids = set(company_ids(tmp_path / "sandbox.db").values())
    period = 3 * RESYNC  # three resyncs a round: two configs each
    with served_codat(tmp_path) as codat:

        async def go() -> None:
            # A budget the sweep fits in (10% of a six-company account's 1,000 would not: the
            # listing alone, 144 resyncs a day, spends more; the last test is about that).
            async with watching(codat, desired, sweep=period, budget="100000") as watch:
                await watch.run(full=True)
                # The control: no time passed, nothing is owed.
                assert await watch.resync(seconds=0) == [LISTING]
                for _round in range(2):
                    swept: list[str] = []
                    for _ in range(3):
                        sent = await watch.resync()
                        assert sent[0] == LISTING and len(sent) == 3, sent  # never a burst
                        swept += config_reads(sent)
                    assert sorted(swept) == sorted(ids)  # each once per period
                assert watch.reads.sweep.rounds >= 2
                assert not watch.logged  # on pace: nothing to say

        asyncio.run(go())


def test_past_the_budget_the_sweep_slows_and_says_so_but_webhooks_are_read(
    tmp_path: Path,
) -> None:
    desired = configured_fleet(tmp_path)
    ids = company_ids(tmp_path / "sandbox.db")
    with served_codat(tmp_path) as codat:

        async def go() -> None:
            async with watching(codat, desired, sweep=3 * RESYNC, budget="10") as watch:
                watch.day.now = datetime(2026, 12, 1, 23, 0, tzinfo=UTC)
                await watch.run(full=True)  # 7 of the day's 10 requests
                sent = await watch.resync()
                assert len(config_reads(sent)) == 1  # the pace asks 2: slowed to 1
                (said,) = watch.logged
                assert "request budget" in said and "slows to 1 a resync" in said, said
                assert watch.reads.document()["config_sweep"]["slowed"] is True
                # A webhook's company is read in full all the same.
                mark = watch.mark()
                await watch.runner(watch.desired, frozenset({ids["s-2"]}), Stopper(), False)
                assert config_reads(watch.requests(mark)) == [ids["s-2"]]
                spent = watch.reads.budget.spent_today
                assert spent == len(watch.codat.requests())  # every request counts
                # A new UTC day: the count starts again.
                watch.day.now = datetime(2026, 12, 2, 0, 5, tzinfo=UTC)
                assert watch.reads.budget.spent_today == 0
                assert len(await watch.resync(seconds=0)) == 1
                assert watch.reads.budget.spent_today == 1

        asyncio.run(go())
