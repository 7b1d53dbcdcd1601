"""`reconcile audit --format html` (issue 24): the status page's report as one static file for a
CI artifact, read in headless Chromium; never a Link URL or a pending company's id."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.audit.fleet import Fleet, build_fleet, served
from tests.support.browser import artifact, chromium
from tests.support.cli import reconcile


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    directory = tmp_path_factory.mktemp("audit-html")
    with served(directory) as (url, db, log):
        yield build_fleet(directory, url, db, log)


@pytest.fixture(scope="module")
def report(fleet: Fleet, tmp_path_factory: pytest.TempPathFactory) -> Path:
    result = reconcile("audit", str(fleet.file), "--format", "html", env=fleet.env())
    assert result.returncode == 2, result.stderr  # the fleet drifts
    path = tmp_path_factory.mktemp("report") / "audit.html"
    path.write_text(result.stdout, encoding="utf-8")
    return path


def test_no_link_url_and_no_pending_company_id(fleet: Fleet, report: Path, tmp_path: Path) -> None:
    html = report.read_text(encoding="utf-8")
    private = tmp_path / "audit.json"
    secret = reconcile(
        "audit", str(fleet.file), "--link-urls", "--json-out", str(private), env=fleet.env()
    )
    assert secret.returncode == 2, secret.stderr
    doc = json.loads(private.read_text(encoding="utf-8"))
    pending = [f for f in doc["findings"] if f.get("link_url")]
    assert pending, "the control: the fleet has customers awaiting authorization"
    for finding in pending:
        assert finding["link_url"] not in html
        assert finding["company_id"] not in html
    assert "/link/companies/" not in html
    assert html.startswith("<!doctype html>") and "<script" not in html
    assert "Acme &amp; Sons" in html and "O&#39;Broken Books 42" in html  # escaped


def test_link_urls_go_to_the_private_file_never_to_the_page(fleet: Fleet, tmp_path: Path) -> None:
    private = tmp_path / "audit.json"
    result = reconcile(
        "audit",
        str(fleet.file),
        "--format",
        "html",
        "--link-urls",
        "--json-out",
        str(private),
        env=fleet.env(),
    )
    assert result.returncode == 2, result.stderr
    links = [
        f["link_url"] for f in json.loads(private.read_text())["findings"] if f.get("link_url")
    ]
    assert links, "the control: the private file has them"
    assert not any(link in result.stdout for link in links)


@pytest.mark.slow
@pytest.mark.browser
def test_html_audit_in_a_browser(report: Path) -> None:
    with chromium() as browser:
        page = browser.new_page()
        page.set_default_timeout(15_000)
        page.goto(report.as_uri())
        assert page.get_by_role("heading", level=1).inner_text() == "Audit of audit-team"
        for heading in ("Onboarding funnel", "Awaiting the customer", "What waits for whom"):
            assert page.get_by_role("heading", name=heading, exact=True).is_visible()
        funnel = page.locator("section[aria-labelledby=funnel]").inner_text()
        assert "Awaiting authorization" in funnel and "Configured" in funnel
        awaiting = page.locator("section[aria-labelledby=awaiting]").inner_text()
        assert "pending-1" in awaiting and "deauth-1" in awaiting  # re-authorization too
        waiting = page.locator("section[aria-labelledby=waiting]").inner_text()
        assert "For a person" in waiting and "For the customer" in waiting
        assert "Duplicates" in waiting
        page.screenshot(path=artifact("audit-report.png"), full_page=True)

        # Links between the parts of the page: a customer's row -> its section -> back
        page.locator("section[aria-labelledby=customers]").get_by_role(
            "link", name="pending-1", exact=True
        ).click()
        page.wait_for_url(re.compile(r"#customer-pending-1$"))
        section = page.locator("#customer-pending-1")
        assert section.get_by_role("heading", level=2).inner_text() == "Customer pending-1"
        assert "Awaiting authorization" in section.inner_text()
        section.get_by_role("link", name="Back to all customers").click()
        page.wait_for_url(re.compile(r"#customers$"))
