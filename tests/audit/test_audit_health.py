"""`reconcile audit --health` end to end on a served sandbox (real subprocesses): a connection
whose data stopped syncing is At risk with the day Codat will deauthorize it and who must act; a
data type that fails makes its customer Degraded; a supplier deleted in the platform makes the
config's reference missing (a review must change the file); the others stay Healthy. Without
`--health` no health read is made."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from reconcile.sandbox.layers.requestlog import read_log
from tests.audit.fleet import ok, served
from tests.conftest import TEST_API_KEY
from tests.support.cli import reconcile

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "schemas" / "audit.schema.json").read_text())
CONFIG = """\
    expenseConfig:
      bankAccount: "89"
      supplier: "124"
      customer: "140"
"""
FILE = f"""\
version: 1
owner: health-team
customers:
  - uid: fine-1
    name: Fine Ltd
    accounting: xero
    expenses: true
{CONFIG}  - uid: stale-1
    name: Stale Ltd
    accounting: xero
    expenses: true
  - uid: failing-1
    name: Failing Ltd
    accounting: xero
    expenses: true
  - uid: gone-1
    name: Gone Supplier Ltd
    accounting: xero
    expenses: true
{CONFIG}"""


@dataclass
class Served:
    url: str
    db: Path
    log: Path
    file: Path

    def env(self) -> dict[str, str]:
        return {"CODAT_BASE_URL": self.url, "CODAT_API_KEY": TEST_API_KEY}

    def sandbox(self, *args: str) -> None:
        ok(reconcile("sandbox", *args[:1], "--db", str(self.db), *args[1:]))

    def audit(self, *args: str) -> tuple[int, dict[str, Any]]:
        result = reconcile("audit", str(self.file), "--format", "json", *args, env=self.env())
        assert result.returncode in (0, 2), result.stderr
        assert "Traceback" not in result.stderr
        doc: dict[str, Any] = json.loads(result.stdout)
        jsonschema.validate(doc, SCHEMA, cls=jsonschema.Draft202012Validator)
        return result.returncode, doc


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    directory = tmp_path_factory.mktemp("health")
    with served(directory) as (url, db, log):
        fleet = Served(url, db, log, directory / "customers.yaml")
        fleet.file.write_text(FILE)
        ok(reconcile("apply", str(fleet.file), "--auto-approve", env=fleet.env()))
        for uid in ("fine-1", "stale-1", "failing-1", "gone-1"):
            fleet.sandbox("authorize", "--uid", uid)
        ok(
            reconcile("apply", str(fleet.file), "--auto-approve", env=fleet.env())
        )  # expense + configs
        fleet.sandbox("data-status", "--uid", "stale-1", "--stop", "--age-days", "40")
        fleet.sandbox("data-status", "--uid", "failing-1", "--fail", "--data-type", "taxRates")
        fleet.sandbox("delete-record", "--uid", "gone-1", "--supplier", "124")
        yield fleet


def of(doc: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [f for f in doc["findings"] if f["kind"] == kind]


def test_health_states_reasons_and_who_must_act(fleet: Served) -> None:
    code, doc = fleet.audit("--health")
    assert code == 2 and doc["drift"] is True
    assert doc["health"] == {"healthy": 1, "degraded": 2, "at_risk": 1}

    [risk] = of(doc, "at_risk")
    assert risk["uid"] == "stale-1" and risk["who"] == "person"
    last = datetime.fromisoformat(risk["facts"]["last_sync"])
    assert timedelta(days=39) < datetime.now(UTC) - last < timedelta(days=41)
    deauthorized = (last + timedelta(days=90)).date().isoformat()
    assert risk["facts"]["deauthorized_on"] == deauthorized
    assert f"Codat deauthorizes the connection on {deauthorized}" in risk["detail"]
    assert risk["facts"]["refresh_queued"] is False

    [degraded] = of(doc, "degraded")
    assert degraded["uid"] == "failing-1" and degraded["facts"]["data_types"] == ["taxRates"]
    assert "taxRates (FetchError)" in degraded["detail"]

    [missing] = of(doc, "missing_references")
    assert missing["uid"] == "gone-1" and missing["who"] == "review"
    assert "supplier 124 no longer exists" in missing["detail"]
    assert not [f for f in doc["findings"] if f["uid"] == "fine-1"]  # control: healthy


def test_health_reads_only_when_asked(fleet: Served) -> None:
    before = len(read_log(fleet.log))
    code, doc = fleet.audit()
    assert doc["health"] is None and not of(doc, "at_risk")
    paths = [r["path"] for r in read_log(fleet.log)[before:]]
    assert not [p for p in paths if p.endswith("/dataStatus")]
    assert code == 0  # nothing but health is wrong

    before = len(read_log(fleet.log))
    fleet.audit("--health")
    paths = [r["path"] for r in read_log(fleet.log)[before:]]
    assert sum(p.endswith("/dataStatus") for p in paths) == 4  # one per Linked company
    assert paths.count("/profile/syncSettings") == 1
    assert all(r["method"] == "GET" for r in read_log(fleet.log)[before:])


def test_text_report_names_the_day_and_the_counts(fleet: Served) -> None:
    result = reconcile("audit", str(fleet.file), "--health", env=fleet.env())
    assert result.returncode == 2, result.stderr
    assert "Health: 1 healthy, 2 degraded, 1 at risk." in result.stdout
    assert "At risk: no successful sync for too long" in result.stdout


def test_the_watchs_daily_read_checks_the_configs_records_too(fleet: Served) -> None:
    """The watch's daily health read (`run_pass(health=True)`) is the whole model, the config's
    records included, as `audit --health`; converge's own read for `refresh_data` (the control,
    `health=None`) leaves those three reads a config out."""
    from reconcile.codat import ClientSettings, CodatClient
    from reconcile.converge import run_pass
    from reconcile.desired import load
    from reconcile.health import Health

    desired = load([fleet.file])
    policy = replace(desired.policy, auto=(*desired.policy.auto, "refresh_data"))

    async def healths(health: bool | None) -> dict[str, Health]:
        async with CodatClient(TEST_API_KEY, ClientSettings(base_url=fleet.url)) as client:
            ran = await run_pass(
                replace(desired, policy=policy), client, health=health, dry_run=True
            )
        return {h.uid: h for h in ran.healths or ()}

    daily = asyncio.run(healths(True))
    assert daily["gone-1"].state.value == "degraded"
    assert any("supplier 124 no longer exists" in r.detail for r in daily["gone-1"].reasons)
    assert daily["fine-1"].state.value == "healthy"
    own = asyncio.run(healths(None))
    assert own["gone-1"].state.value == "healthy"  # its data syncs; the records were not read
