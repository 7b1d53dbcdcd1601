"""Account settings as code in saved plans, plan JSON and `plan --env all` (issue 26), on a
served sandbox of their own (the settings belong to the whole account), through real
`reconcile` runs: `plan --out` carries the settings' changes and what it saw of them, `apply
--plan` makes them (or says they are already applied), and a change made in the portal after
the plan is refused by name while the customers' actions still apply."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from reconcile.plans.file.decode import plan_from_dict
from tests.cli.test_account_settings import CONSUMER_URL, EVENTS, FILE, run, served, setting
from tests.conftest import AUTH_HEADERS, TEST_API_KEY
from tests.plans.file.saved_support import ok, plan_json, read_plan, reconcile

__all__ = ["served"]  # the fixture, shared with tests/cli/test_account_settings.py

NEWCOMER = """\
customers:
  - uid: acct-0001
    name: Settings Newcomer Ltd
"""


def with_customer(tmp_path: Path) -> Path:
    path = tmp_path / "customers.yaml"
    path.write_text(FILE.replace("customers: []\n", NEWCOMER))
    return path


def applied(path: Path, served: str) -> Path:
    """The file (no customers, the account's settings) at `path`, applied."""
    path.write_text(FILE)
    assert run(served, "apply", str(path), "--auto-approve", "--allow-empty")[0] == 0
    return path


def drift_in_the_portal(codat: httpx.Client, schedule: int) -> None:
    """Someone edits the account's settings by hand: suppliers' schedule, the consumer's
    events (Codat cannot edit a consumer: the portal deletes and creates it)."""
    body = codat.get("/profile/syncSettings").json()
    for entry in body["settings"]:
        if entry["dataType"] == "suppliers":
            entry.update(syncSchedule=schedule)
    assert codat.post("/profile/syncSettings", json=body).status_code == 204
    for consumer in codat.get("/webhooks").json()["results"]:
        assert codat.delete(f"/webhooks/{consumer['id']}").status_code == 204
    edited = {"url": CONSUMER_URL, "eventTypes": ["company.created"]}
    assert codat.post("/webhooks", json=edited).status_code == 201


def owned(codat: httpx.Client) -> list[str]:
    listed = codat.get("/companies", params={"tags": "reconcile.owner=acct-team"}).json()
    return sorted(c["tags"]["reconcile.uid"] for c in listed["results"])


@pytest.mark.slow
def test_a_saved_plan_restores_the_settings_drifted_in_the_portal(
    tmp_path: Path, served: str
) -> None:
    file = applied(tmp_path / "customers.yaml", served)
    with httpx.Client(base_url=served, headers=AUTH_HEADERS) as codat:
        drift_in_the_portal(codat, schedule=72)
        saved = tmp_path / "plan.json"
        code, out = run(served, "plan", str(file), "--allow-empty", "--out", str(saved))
        assert code == 0, out
        doc = read_plan(saved)  # checked against schemas/plan.schema.json
        kinds = [s["kind"] for s in doc["settings"]]
        assert kinds == ["sync_settings", "webhook_consumer"], doc["settings"]
        sync = doc["settings"][0]
        assert sync["after"] == {
            "suppliers": {"fetchOnFirstLink": True, "syncSchedule": 24},
            "taxRates": {"syncSchedule": 24},
        }
        seen = {s["dataType"]: s for s in sync["before"]["settings"]}
        assert seen["suppliers"]["syncSchedule"] == 72  # what the plan saw, signed
        assert setting(codat, "suppliers")["syncSchedule"] == 72  # plan wrote nothing

        code, out = run(served, "apply", "--plan", str(saved), str(file))
        assert code == 0, out
        assert "Applied 2 account settings change(s)" in out
        assert setting(codat, "suppliers")["syncSchedule"] == 24
        [consumer] = codat.get("/webhooks").json()["results"]
        assert sorted(consumer["eventTypes"]) == EVENTS

        code, out = run(served, "apply", "--plan", str(saved), str(file))
        assert code == 0, out
        assert "already applied" in out  # every change of the plan landed
    code, out = run(served, "plan", str(file), "--allow-empty", "--detailed-exitcode")
    assert code == 0, out  # control: restored, nothing left to do


@pytest.mark.slow
def test_settings_changed_behind_the_plan_are_refused_while_customers_apply(
    tmp_path: Path, served: str
) -> None:
    applied(tmp_path / "base.yaml", served)
    file = with_customer(tmp_path)
    with httpx.Client(base_url=served, headers=AUTH_HEADERS) as codat:
        drift_in_the_portal(codat, schedule=72)
        saved = tmp_path / "plan.json"
        assert run(served, "plan", str(file), "--out", str(saved))[0] == 0
        assert len(read_plan(saved)["settings"]) == 2
        # After the plan: the suppliers' schedule changes again in the portal, and someone
        # restores the consumer by hand (what the plan wants: it landed).
        drift_in_the_portal(codat, schedule=48)
        [consumer] = codat.get("/webhooks").json()["results"]
        assert codat.delete(f"/webhooks/{consumer['id']}").status_code == 204
        wanted = {
            "url": CONSUMER_URL,
            "eventTypes": EVENTS,
            "companyTags": ["reconcile.owner:acct-team"],
        }
        assert codat.post("/webhooks", json=wanted).status_code == 201

        code, out = run(served, "apply", "--plan", str(saved), str(file))
        assert code == 1, out
        assert "account settings not applied (sync settings): changed behind the plan" in out
        assert "sync settings: suppliers syncSchedule 72 -> 48" in out
        assert f"webhook consumer {CONSUMER_URL}: already applied" in out
        assert owned(codat) == ["acct-0001"]  # the customer's action still applied
        assert setting(codat, "suppliers")["syncSchedule"] == 48  # the refused one: not made


def test_plan_json_carries_the_settings_changes(tmp_path: Path, served: str) -> None:
    file = tmp_path / "customers.yaml"
    file.write_text(FILE)
    args = ("plan", str(file), "--env", "test", "--allow-empty", "--format", "json")
    doc = plan_json(ok(reconcile(*args, url=served)))  # checked against the schema
    assert doc["summary"] == {"create": 0, "update": 0, "unlink": 0, "delete": 0}
    [change] = plan_from_dict(doc).settings
    assert (change.kind, change.sign, change.subject) == (
        "webhook_consumer",
        "+",
        f"webhook consumer {CONSUMER_URL}",
    )
    assert change.after == {
        "url": CONSUMER_URL,
        "eventTypes": EVENTS,
        "companyTags": ["reconcile.owner:acct-team"],
    }


ALL = FILE.replace(
    "environments:\n",
    "environments:\n  prod:\n    account: Codat sandbox\n    api_key_env: CODAT_API_KEY_PROD\n",
)


def test_plan_env_all_counts_each_environments_settings_changes(
    tmp_path: Path, served: str
) -> None:
    file = tmp_path / "customers.yaml"
    file.write_text(ALL)
    keys = {"CODAT_API_KEY_PROD": TEST_API_KEY}
    args = ("plan", str(file), "--env", "all", "--allow-empty")
    table = reconcile(*args, "--detailed-exitcode", url=served, env=keys)
    assert table.returncode == 2, table.stdout + table.stderr
    rows = {line.split()[0]: line.split() for line in table.stdout.splitlines()}
    assert rows["Environment"][-2:] == ["Settings", "Refused"]
    assert rows["test"][-2:] == ["1", "0"]  # the consumer to create
    assert rows["prod"][-2:] == ["0", "0"]  # control: declares no settings
    doc = json.loads(reconcile(*args, "--format", "json", url=served, env=keys).stdout)
    assert {e["name"]: e["settings"] for e in doc["environments"]} == {"test": 1, "prod": 0}
