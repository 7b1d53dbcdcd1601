"""Customers' health on the watch's status page and `/status` (issue 26), from a real `reconcile
watch` against a served sandbox whose clock moved on (`reconcile sandbox clock`): a customer whose
data stopped syncing ages into At risk through `dataStatus`, one whose tax rates fail is
Degraded, one syncing is Healthy. The page counts them by state and shows, per customer Degraded
or At risk, the reason, the day Codat will deauthorize it, who must act and when health was
read; read in headless Chromium (no JavaScript needed), never a Link URL or the id of a company
awaiting authorization."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.browser import artifact, chromium
from tests.support.cli import reconcile
from tests.watch.helpers import Codat, running_watch, served_codat

FILE = """\
version: 1
owner: health-watch
policy:
  auto: [partner_expense_connection, expense_config, refresh_data]
customers:
  - uid: h-fine
    name: Fine Ltd
    accounting: xero
    expenses: true
  - uid: h-stopped
    name: Stopped Ltd
    accounting: xero
    expenses: true
  - uid: h-failing
    name: Failing Ltd
    accounting: xero
    expenses: true
  - uid: h-pending
    name: Pending Ltd
    accounting: xero
    expenses: true
"""


def sandbox(codat: Codat, *args: str) -> str:
    result = reconcile("sandbox", args[0], "--db", str(codat.db), *args[1:])
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def set_up(codat: Codat, directory: Path, text: str = FILE) -> tuple[Path, list[str], datetime]:
    """The file (`text`) applied, three customers Linked, their data as described above, the
    clock 40 days on; returns the file, what must never be shown, and when the data stopped."""
    desired = directory / "customers.yaml"
    desired.write_text(text)
    applied = reconcile("apply", str(desired), "--auto-approve", env=codat.env())
    assert applied.returncode == 0, applied.stdout + applied.stderr
    for uid in ("h-fine", "h-stopped", "h-failing"):
        sandbox(codat, "authorize", "--uid", uid)
    stopped_at = datetime.now(UTC)
    sandbox(codat, "data-status", "--uid", "h-stopped", "--stop")
    sandbox(codat, "data-status", "--uid", "h-failing", "--data-type", "taxRates", "--fail")
    sandbox(codat, "clock", "--advance-days", "40")
    pending = codat.company("h-pending")
    secrets = [pending["id"], *(c["linkUrl"] for c in pending["dataConnections"])]
    return desired, secrets, stopped_at


def by_uid(status: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["uid"]: c for c in status["customer_health"]["customers"]}


@pytest.mark.slow
@pytest.mark.browser
def test_customer_health_on_the_status_page(tmp_path: Path) -> None:
    with served_codat(tmp_path) as codat:
        desired, secrets, stopped_at = set_up(codat, tmp_path)
        with running_watch(codat, str(desired), "--resync", "1h") as watch:
            watch.wait_for("a health read", lambda s: s["customer_health"]["counts"] is not None)
            status = watch.status()
            health = status["customer_health"]
            assert health["counts"] == {"healthy": 1, "degraded": 1, "at_risk": 1}
            read_at = datetime.fromisoformat(health["read_at"])
            assert read_at - datetime.now(UTC) > timedelta(days=39)  # Codat's (moved) clock
            rows = by_uid(status)
            assert set(rows) == {"h-stopped", "h-failing"}  # healthy and pending: not listed
            stopped = rows["h-stopped"]
            assert stopped["state"] == "at_risk" and stopped["who"] == ["converge"]
            last_sync = datetime.fromisoformat(stopped["last_sync"])
            assert abs(last_sync - stopped_at) < timedelta(minutes=5)
            deauthorized = date.fromisoformat(stopped["deauthorized_on"])
            assert deauthorized == (last_sync + timedelta(days=90)).date()
            assert "no successful sync since" in stopped["reasons"][0]["detail"]
            failing = rows["h-failing"]
            assert (failing["state"], failing["who"]) == ("degraded", ["person"])
            assert failing["deauthorized_on"] is None
            assert "taxRates (FetchError)" in failing["reasons"][0]["detail"]

            html = httpx.get(watch.status_url + "/", timeout=10).text
            document = watch.get("/status").text
            for secret in secrets:
                assert secret not in html and secret not in document
            assert "<script" not in html

            with chromium() as browser:
                page = browser.new_page(java_script_enabled=False)  # readable without it
                page.set_default_timeout(15_000)
                page.goto(watch.status_url + "/")
                assert page.get_by_role("heading", name="Customer health", exact=True).is_visible()
                section = page.locator("section[aria-labelledby=customer-health]")
                assert "Read at" in section.inner_text()
                counts = section.locator("table.health-counts")
                for state, count in (("Healthy", "1"), ("Degraded", "1"), ("At risk", "1")):
                    row = counts.get_by_role("row", name=re.compile(f"^{state}"))
                    assert row.get_by_role("cell").first.inner_text() == count
                at_risk = section.locator("tr[data-health=at_risk]")
                assert "h-stopped" in at_risk.inner_text()
                assert deauthorized.isoformat() in at_risk.inner_text()
                assert "converge (policy.auto: refresh_data)" in at_risk.inner_text()
                degraded = section.locator("tr[data-health=degraded]")
                assert "taxRates" in degraded.inner_text() and "a person" in degraded.inner_text()
                assert "h-fine" not in section.inner_text()
                page.screenshot(path=artifact("watch-status-health.png"), full_page=True)

                at_risk.get_by_role("link", name="h-stopped").click()
                page.wait_for_url(re.compile(r"/customers/h-stopped$"))
                shown = page.locator("[data-health]").first.inner_text()
                assert shown == "At risk"
                assert deauthorized.isoformat() in page.locator("dl").inner_text()
            assert watch.stop() == 143


@pytest.mark.slow
def test_health_is_read_without_refresh_data(tmp_path: Path) -> None:
    """The status page's health does not depend on `refresh_data`: without it the watch still
    reads health daily, refreshes nothing, and a person must act for the customer at risk."""
    text = FILE.replace(", refresh_data]", "]")
    assert text != FILE
    with served_codat(tmp_path) as codat:
        desired, _secrets, _stopped_at = set_up(codat, tmp_path, text)
        with running_watch(codat, str(desired), "--resync", "1h") as watch:
            watch.wait_for("a health read", lambda s: s["customer_health"]["counts"] is not None)
            status = watch.status()
            assert status["customer_health"]["counts"] == {
                "healthy": 1,
                "degraded": 1,
                "at_risk": 1,
            }
            stopped = by_uid(status)["h-stopped"]
            assert (stopped["state"], stopped["who"]) == ("at_risk", ["person"])
            paths = [r["path"] for r in codat.requests()]
            assert any(p.endswith("/dataStatus") for p in paths)
            assert not [p for p in paths if p.endswith("/data/all")]
            assert watch.stop() == 143
