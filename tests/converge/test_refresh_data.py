"""`policy.auto: [refresh_data]` end to end on a served sandbox (real subprocesses): a Linked
customer whose data stopped syncing is At risk; the audit shows the refresh as a follow-up for
converge; `reconcile converge` sends exactly one `POST .../data/all` and nothing else, and the
customer is Healthy again. A customer whose syncs fail is not refreshed (a refresh cannot help:
a person must act), and without the policy nothing is read or refreshed."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from reconcile.sandbox.layers.requestlog import read_log
from tests.audit.fleet import Served, ok, served
from tests.conftest import TEST_API_KEY

FINE_AND_STALE = """\
customers:
  - uid: fine-1
    name: Fine Ltd
    accounting: xero
    expenses: true
  - uid: stale-1
    name: Stale Ltd
    accounting: xero
    expenses: true
"""
CUSTOMERS = (
    FINE_AND_STALE
    + """\
  - uid: broken-1
    name: Broken Ltd
    accounting: xero
    expenses: true
"""
)
POLICY = "policy:\n  auto: [partner_expense_connection, expense_config, refresh_data]\n"
FILE = "version: 1\nowner: refresh-team\n" + POLICY + CUSTOMERS
NO_POLICY = "version: 1\nowner: refresh-team\n" + CUSTOMERS


@dataclass
class Fleet(Served):
    file: Path
    plain: Path

    def health(self, file: Path | None = None) -> dict[str, Any]:
        result = self.run("audit", str(file or self.file), "--health", "--format", "json")
        assert result.returncode in (0, 2), result.stderr
        doc: dict[str, Any] = json.loads(result.stdout)
        return doc

    def writes_since(self, mark: int) -> list[tuple[str, str]]:
        return [(r["method"], r["path"]) for r in read_log(self.log)[mark:] if r["method"] != "GET"]


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    directory = tmp_path_factory.mktemp("refresh")
    with served(directory) as (url, db, log):
        fleet = Fleet(url, db, log, directory / "customers.yaml", directory / "plain.yaml")
        fleet.file.write_text(FILE)
        fleet.plain.write_text(NO_POLICY)
        ok(fleet.run("apply", str(fleet.file), "--auto-approve"))
        for uid in ("fine-1", "stale-1", "broken-1"):
            fleet.sandbox("authorize", "--uid", uid)
        ok(fleet.run("apply", str(fleet.file), "--auto-approve"))
        fleet.sandbox("data-status", "--uid", "stale-1", "--stop", "--age-days", "40")
        fleet.sandbox("data-status", "--uid", "broken-1", "--stop", "--age-days", "40", "--fail")
        yield fleet


def of(doc: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [f for f in doc["findings"] if f["kind"] == kind]


def test_without_the_policy_nothing_is_read_or_refreshed(fleet: Fleet) -> None:
    mark = len(read_log(fleet.log))
    result = fleet.run("converge", str(fleet.plain))
    assert result.returncode == 0, result.stdout + result.stderr
    assert fleet.writes_since(mark) == []
    paths = [r["path"] for r in read_log(fleet.log)[mark:]]
    assert not [p for p in paths if p.endswith("/dataStatus")]
    doc = fleet.health(fleet.plain)
    [stale] = [f for f in of(doc, "at_risk") if f["uid"] == "stale-1"]
    assert stale["facts"]["refresh_queued"] is False and "list refresh_data" in stale["detail"]


def test_the_watch_pass_reports_health_to_metrics(fleet: Fleet) -> None:
    """The watch's full pass (in process, a dry run: nothing is written) reads health and its
    `/metrics` shows the customers by state; a pass that does not read health leaves it."""
    from reconcile.codat import ClientSettings, CodatClient
    from reconcile.converge import run_pass
    from reconcile.desired import load
    from reconcile.watch.metrics import Metrics
    from reconcile.watch.passes import report

    async def one(health: bool) -> bytes:
        settings = ClientSettings(base_url=fleet.url)
        async with CodatClient(TEST_API_KEY, settings) as client:
            result = await run_pass(load([fleet.file]), client, dry_run=True, health=health)
        metrics = Metrics()
        metrics.record_pass(report(result), "ok", {})
        return metrics.render()

    shown = asyncio.run(one(True)).decode()
    assert 'reconcile_watch_customer_health{state="at_risk"} 2.0' in shown
    assert 'reconcile_watch_customer_health{state="healthy"} 1.0' in shown
    assert "reconcile_watch_customer_health{" not in asyncio.run(one(False)).decode()


def test_refresh_data_brings_an_at_risk_customer_back(fleet: Fleet) -> None:
    doc = fleet.health()
    assert doc["health"] == {"healthy": 1, "degraded": 0, "at_risk": 2}
    risks = {f["uid"]: f for f in of(doc, "at_risk")}
    assert risks["stale-1"]["facts"]["refresh_queued"] is True
    assert risks["stale-1"]["facts"]["who"] == ["converge"]
    assert risks["broken-1"]["facts"]["refresh_queued"] is False  # failing: a person acts
    [follow_up] = of(doc, "follow_ups")
    assert (follow_up["uid"], follow_up["facts"]["action"]) == ("stale-1", "refresh_data")
    assert follow_up["who"] == "converge"

    mark = len(read_log(fleet.log))
    result = fleet.run("converge", str(fleet.file))
    assert "refresh" in result.stdout, result.stdout
    [write] = fleet.writes_since(mark)  # one refresh, and no other write
    stale_id = risks["stale-1"]["company_id"]
    assert write == ("POST", f"/companies/{stale_id}/data/all")

    after = fleet.health()
    assert after["health"] == {"healthy": 2, "degraded": 0, "at_risk": 1}
    assert [f["uid"] for f in of(after, "at_risk")] == ["broken-1"]

    mark = len(read_log(fleet.log))
    fleet.run("converge", str(fleet.file))
    assert fleet.writes_since(mark) == []  # control: nothing left to refresh
