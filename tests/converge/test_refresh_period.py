"""`refresh_data` at most once per period (`policy.refreshDataEvery`, default a day), remembered by
Codat itself: its pull history (`GET .../data/history`) holds every refresh, so every runner
(converge, the watch, the audit's plan) and a restart keep to the period. On a served sandbox of
its own, with its injected clock (`reconcile sandbox clock`): a customer whose data stopped
syncing is refreshed once; at risk again within the period (the platform stopped again), a new
process does not refresh it and the plan says when it was refreshed and when the next is
allowed; a day later (the clock advanced) it is refreshed again."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from reconcile.sandbox.layers.requestlog import read_log
from tests.audit.fleet import Served, ok, served
from tests.conftest import TEST_API_KEY
from tests.converge.test_refresh_data import FINE_AND_STALE, POLICY

FILE = "version: 1\nowner: period-team\n" + POLICY + FINE_AND_STALE


@dataclass
class Sandbox(Served):
    file: Path

    def stop_syncing(self, uid: str) -> None:
        """The platform stops sending data: the last sync backdated 40 days, syncs stopped."""
        self.sandbox("data-status", "--uid", uid, "--stop", "--age-days", "40")

    def mark(self) -> int:
        return len(read_log(self.log))

    def since(self, mark: int) -> list[tuple[str, str]]:
        return [(r["method"], r["path"]) for r in read_log(self.log)[mark:]]

    def refreshes_since(self, mark: int) -> list[str]:
        return [p for m, p in self.since(mark) if m == "POST" and p.endswith("/data/all")]

    def histories_since(self, mark: int) -> list[str]:
        return [p for m, p in self.since(mark) if m == "GET" and p.endswith("/data/history")]


@pytest.fixture
def codat(tmp_path: Path) -> Iterator[Sandbox]:
    with served(tmp_path) as (url, db, log):
        box = Sandbox(url, db, log, tmp_path / "customers.yaml")
        box.file.write_text(FILE)
        ok(box.run("apply", str(box.file), "--auto-approve"))
        for uid in ("fine-1", "stale-1"):
            box.sandbox("authorize", "--uid", uid)
        ok(box.run("apply", str(box.file), "--auto-approve"))
        box.stop_syncing("stale-1")
        yield box


def held_without_history(box: Sandbox) -> tuple[bool, str | None]:
    """The run's health read in process, a dry run: whether the refresh is otherwise due (without
    the history check) and what the history check says (the control)."""
    from reconcile.codat import ClientSettings, CodatClient
    from reconcile.desired import load
    from reconcile.facts.fleet import read_live
    from reconcile.facts.health import hold_recent_refreshes, read_health
    from reconcile.health import HealthOptions, assess

    async def go() -> tuple[bool, str | None]:
        desired = load([box.file])
        async with CodatClient(TEST_API_KEY, ClientSettings(base_url=box.url)) as client:
            live = await read_live(client, desired, frozenset())
            (company,) = [c for c in live.companies if c.uid == "stale-1"]
            facts = await read_health(client, [company], {})
            assert client.server_time is not None
            now = client.server_time
            options = HealthOptions(refresh_data=True)
            (before,) = [assess("stale-1", company, facts[company.id], now, options)]
            (after,) = await hold_recent_refreshes(client, [company], facts, [before], now, options)
        return before.refresh_queued, after.refresh_held

    return asyncio.run(go())


def test_refresh_data_at_most_once_a_day_across_runs_and_restarts(codat: Sandbox) -> None:
    box = codat
    mark = box.mark()
    first = box.run("converge", str(box.file))
    assert first.returncode == 0, first.stdout + first.stderr
    [refreshed] = box.refreshes_since(mark)  # one refresh, its history read once before it
    assert len(box.histories_since(mark)) == 1

    # At risk again within the day (the platform stopped again): a new process reads Codat's
    # pull history and holds the refresh; the plan says why
    box.stop_syncing("stale-1")
    due, held = held_without_history(box)
    assert due is True  # control: without the history check this run would refresh again
    assert held is not None and held.startswith("refreshed at ") and "next allowed at" in held
    mark = box.mark()
    second = box.run("converge", str(box.file))
    assert second.returncode == 0, second.stdout + second.stderr
    assert box.refreshes_since(mark) == []
    assert len(box.histories_since(mark)) == 1  # one request, for the one company at risk
    assert "refreshed at" in second.stdout and "next allowed at" in second.stdout, second.stdout

    # The audit's plan (CI, the nightly audit) says the same, and writes nothing
    mark = box.mark()
    audit = box.run("audit", str(box.file), "--health", "--format", "json")
    assert audit.returncode in (0, 2), audit.stderr
    doc = json.loads(audit.stdout)
    [risk] = [f for f in doc["findings"] if f["kind"] == "at_risk"]
    assert "no refresh now: refreshed at" in risk["detail"], risk
    assert risk["facts"]["refresh_held"].startswith("refreshed at "), risk
    assert risk["facts"]["who"] == ["converge"] and risk["facts"]["refresh_queued"] is False
    assert not [f for f in doc["findings"] if f["kind"] == "follow_ups"]
    assert [m for m, _ in box.since(mark) if m != "GET"] == []

    # A day later (Codat's clock moved on), the next refresh is allowed
    out = box.sandbox("clock", "--advance-days", "1.1")
    assert "clock is now" in out
    mark = box.mark()
    third = box.run("converge", str(box.file))
    assert third.returncode == 0, third.stdout + third.stderr
    assert box.refreshes_since(mark) == [refreshed]


def test_a_restarted_watch_keeps_to_the_period(codat: Sandbox) -> None:
    """The watch refreshes, is stopped and started again with the customer at risk again: the
    new process holds the refresh (its memory is Codat's pull history, not its own)."""
    from tests.watch.helpers import Codat, running_watch

    box = codat
    served_codat = Codat(box.url, box.db, box.log)
    mark = box.mark()
    with running_watch(served_codat, str(box.file), "--resync", "1h") as watch:
        watch.wait_for("a full pass", watch.passes_after(0))
        assert watch.stop() == 143
    assert len(box.refreshes_since(mark)) == 1

    box.stop_syncing("stale-1")
    mark = box.mark()
    with running_watch(served_codat, str(box.file), "--resync", "1h") as watch:
        watch.wait_for("a full pass", watch.passes_after(0))
        assert watch.stop() == 143
    assert box.refreshes_since(mark) == []
    assert len(box.histories_since(mark)) == 1
