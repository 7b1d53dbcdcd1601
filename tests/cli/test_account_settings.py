"""Account settings as code (issue 26), on a served sandbox of its own (the settings belong to
the whole account), through real `reconcile` runs: the declared webhook consumer is created;
sync settings and the consumer drift "in the portal" and the plan shows it and apply restores
it, leaving unnamed data types alone; a pull request's file cannot change the settings."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import AUTH_HEADERS
from tests.plans.file.saved_support import reconcile
from tests.support.sandbox_server import serve_sandbox

CONSUMER_URL = "http://127.0.0.1:9/webhooks/codat"
EVENTS = ["connection.connected", "connection.disconnected"]
FILE = f"""\
version: 1
owner: acct-team
environments:
  test:
    account: Codat sandbox
    api_key_env: CODAT_API_KEY
    settings:
      syncSettings:
        suppliers: {{fetchOnFirstLink: true, syncSchedule: 24}}
        taxRates: {{syncSchedule: 24}}
      webhookConsumer:
        url: {CONSUMER_URL}
        eventTypes: [{", ".join(EVENTS)}]
        companyTags: ["reconcile.owner:acct-team"]
customers: []
"""


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    with serve_sandbox(tmp_path / "own.db") as url:
        yield url


def run(url: str, *args: str) -> tuple[int, str]:
    result = reconcile(*args, "--env", "test", url=url)
    assert "Traceback" not in result.stderr, result.stderr
    return result.returncode, result.stdout + result.stderr


def setting(codat: httpx.Client, data_type: str) -> dict[str, object]:
    settings = codat.get("/profile/syncSettings").json()["settings"]
    return dict(next(s for s in settings if s["dataType"] == data_type))


def test_settings_are_planned_applied_and_restored_after_drift(tmp_path: Path, served: str) -> None:
    file = tmp_path / "customers.yaml"
    file.write_text(FILE)
    code, out = run(served, "plan", str(file), "--detailed-exitcode", "--allow-empty")
    assert code == 2, out
    assert f"+ webhook consumer {CONSUMER_URL}" in out
    assert "sync settings" not in out  # the defaults already match what the file names
    code, out = run(served, "watch", str(file), "--register", CONSUMER_URL)
    assert code == 1 and "run `reconcile apply --env test`" in out, out  # checked, not made
    code, out = run(served, "apply", str(file), "--auto-approve", "--allow-empty")
    assert code == 0, out
    assert run(served, "plan", str(file), "--detailed-exitcode", "--allow-empty")[0] == 0
    code, out = run(served, "watch", str(file), "--register", CONSUMER_URL)
    assert "the declared webhook consumer" in out and "exists as the file says" in out, out

    with httpx.Client(base_url=served, headers=AUTH_HEADERS) as codat:
        body = codat.get("/profile/syncSettings").json()  # drift in the portal
        for entry in body["settings"]:
            if entry["dataType"] == "suppliers":
                entry.update(syncSchedule=72, fetchOnFirstLink=False)
            if entry["dataType"] == "bills":
                entry.update(syncSchedule=12)  # a data type the file does not name
        assert codat.post("/profile/syncSettings", json=body).status_code == 204
        [consumer] = codat.get("/webhooks").json()["results"]
        assert codat.delete(f"/webhooks/{consumer['id']}").status_code == 204
        edited = {"url": CONSUMER_URL, "eventTypes": ["company.created"]}
        assert codat.post("/webhooks", json=edited).status_code == 201

        code, out = run(served, "audit", str(file))
        assert code == 2, out  # the audit reports the drift (and writes nothing)
        assert "Account settings differ from the file" in out
        assert "sync settings: suppliers.fetchOnFirstLink: False -> True;" in out
        code, out = run(served, "plan", str(file), "--detailed-exitcode", "--allow-empty")
        assert code == 2, out
        assert "suppliers.syncSchedule: 72 -> 24" in out
        assert "suppliers.fetchOnFirstLink: False -> True" in out
        assert "eventTypes: company.created -> connection.connected, connection.disconnected" in out
        code, out = run(served, "apply", str(file), "--auto-approve", "--allow-empty")
        assert code == 0, out

        assert setting(codat, "suppliers")["syncSchedule"] == 24
        assert setting(codat, "suppliers")["fetchOnFirstLink"] is True
        assert setting(codat, "bills")["syncSchedule"] == 12  # unnamed: left alone
        [consumer] = codat.get("/webhooks").json()["results"]
        assert sorted(consumer["eventTypes"]) == EVENTS
        assert consumer["companyTags"] == ["reconcile.owner:acct-team"]
    assert run(served, "plan", str(file), "--detailed-exitcode", "--allow-empty")[0] == 0
    assert run(served, "audit", str(file))[0] == 0  # control: restored, no drift


def test_a_pull_request_cannot_change_the_settings(tmp_path: Path, served: str) -> None:
    base = tmp_path / "base"
    base.mkdir()
    (base / "customers.yaml").write_text(FILE)
    head = tmp_path / "customers.yaml"
    head.write_text(
        FILE.replace(
            "syncSchedule: 24}}\n        taxRates", "syncSchedule: 1}\n        taxRates"
        ).replace(
            "suppliers: {fetchOnFirstLink: true, syncSchedule: 24}",
            "suppliers: {fetchOnFirstLink: true, syncSchedule: 1}",
        )
    )
    code, out = run(
        served, "plan", str(head), "--base", str(base / "customers.yaml"), "--allow-empty"
    )
    assert code == 1, out
    assert "settings differs from the base files" in out
    with httpx.Client(base_url=served, headers=AUTH_HEADERS) as codat:
        assert setting(codat, "suppliers")["syncSchedule"] == 24  # nothing was written
