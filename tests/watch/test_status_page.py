"""The watch's status page (issue 24), served on its internal listener by a real `reconcile
watch` against a served sandbox, read in headless Chromium: the funnel, who waits, the links to
each customer's page and its timeline, the watch's health; never a Link URL or the id of a
company awaiting authorization."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from tests.support.browser import artifact, chromium
from tests.support.cli import reconcile
from tests.watch.helpers import running_watch, served_codat, write_file


@pytest.mark.slow
@pytest.mark.browser
def test_status_page_in_a_browser(tmp_path: Path) -> None:
    with served_codat(tmp_path) as codat:
        desired = write_file(tmp_path / "customers.yaml")
        assert reconcile("apply", str(desired), "--auto-approve", env=codat.env()).returncode == 0
        authorized = reconcile("sandbox", "authorize", "--db", str(codat.db), "--uid", "w-1")
        assert authorized.returncode == 0
        pending_id = codat.company_id("w-2")
        secrets = [c["linkUrl"] for c in codat.company("w-2")["dataConnections"]] + [pending_id]

        with running_watch(codat, str(desired), "--resync", "1h") as watch:
            watch.wait_for("w-1 configured", lambda s: s["funnel"]["configured"] == 1)
            # The watch says what it does, naming the customer and the action
            watch.said(re.compile(r"w-1: applied create_partner_expense"))
            watch.said("w-2: stage Awaiting authorization")

            answer = httpx.get(watch.status_url + "/", timeout=10)
            assert answer.headers["x-frame-options"] == "DENY"
            assert "default-src 'none'" in answer.headers["content-security-policy"]
            html = answer.text
            rebound = httpx.get(watch.status_url + "/", headers={"Host": "evil.example"})
            assert rebound.status_code == 400  # the page is Host-checked like /status
            assert httpx.get(watch.url + "/", timeout=10).status_code == 404  # not public
            for secret in secrets:
                assert secret not in html
            assert "<script" not in html

            with chromium() as browser:
                page = browser.new_page()
                page.set_default_timeout(15_000)
                page.goto(watch.status_url + "/")
                assert page.get_by_role("heading", level=1).inner_text() == "Onboarding status"
                for heading in (
                    "Onboarding funnel",
                    "Awaiting the customer",
                    "What waits for whom",
                    "The watch's health",
                    "Customers",
                ):
                    assert page.get_by_role("heading", name=heading, exact=True).is_visible()
                funnel = page.locator("section[aria-labelledby=funnel] table")
                assert "Configured" in funnel.inner_text()
                configured = funnel.get_by_role("row", name=re.compile("^Configured"))
                assert configured.get_by_role("cell").first.inner_text() == "1"
                awaiting = page.locator("section[aria-labelledby=awaiting]").inner_text()
                assert "w-2" in awaiting and "w-1" not in awaiting
                health = page.locator("section[aria-labelledby=health]").inner_text()
                assert "Last full pass without a failure" in health and "never" in health
                page.screenshot(path=artifact("watch-status-page.png"), full_page=True)

                # Links between pages: the overview -> a customer -> back
                page.locator("section[aria-labelledby=customers]").get_by_role(
                    "link", name="w-1"
                ).click()
                page.wait_for_url(re.compile(r"/customers/w-1$"))
                assert page.get_by_role("heading", level=1).inner_text() == "Customer w-1"
                timeline = page.locator("table.timeline").inner_text()
                assert "applied create_partner_expense" in timeline
                assert "Configured" in page.locator("[data-stage]").inner_text()
                page.screenshot(path=artifact("watch-customer-page.png"), full_page=True)
                page.get_by_role("link", name="Back to the overview").click()
                page.wait_for_url(watch.status_url + "/")
                assert page.get_by_role("heading", level=1).inner_text() == "Onboarding status"

                missing = page.goto(watch.status_url + "/customers/nobody")
                assert missing is not None and missing.status == 404
            assert watch.stop() == 143
