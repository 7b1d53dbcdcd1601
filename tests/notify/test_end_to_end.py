"""Issue 24's notifications end to end, on the served sandbox and a real `reconcile watch`:
20 customers applied -> the partner's app (a loopback receiver that verifies each delivery with
`standardwebhooks`) gets one signed `customer.authorization_needed` each, with a working Link URL;
the customers authorize from those links in headless Chromium -> `customer.onboarded` each; a
deauthorization -> `customer.reauthorization_needed` and a team notification (never a Link URL);
a restart repeats none; a delivery signed with a wrong secret -> a team notification at once."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import sync_playwright

from tests.notify.support import PARTNER_SECRET_ENV, notify_file, partner_channel, partner_env
from tests.notify.support import verified as check
from tests.sandbox.webhook_receiver import Receiver, receiver
from tests.support.browser import CHROMIUM_ARGS
from tests.support.browser import chromium_or_skip as _chromium_or_skip
from tests.support.cli import reconcile
from tests.watch.helpers import connection_event, new_secret, running_watch, served_codat

pytestmark = [pytest.mark.slow, pytest.mark.browser]
CUSTOMERS = 20
UIDS = [f"n-{i:02d}" for i in range(CUSTOMERS)]


def customers_file(path: Path) -> Path:
    entries = "".join(
        f"  - {{uid: {uid}, name: Notified {uid}, accounting: xero, expenses: true}}\n"
        for uid in UIDS
    )
    path.write_text(f"version: 1\nowner: notify-test\ncustomers:\n{entries}", encoding="utf-8")
    return path


def events(app: Receiver, secret: str, kind: str) -> list[dict[str, Any]]:
    with app.lock:
        received = list(app.deliveries)
    return [e for e in (check(d, secret) for d in received) if e["type"] == kind]


def until(what: str, ready: Callable[[], bool], timeout: float = 60.0) -> float:
    """Poll `ready` (the watch is another process); returns the seconds it took."""
    started = time.monotonic()
    while not ready():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)
    return time.monotonic() - started


def chat_texts(chat: Receiver) -> list[str]:
    with chat.lock:
        return [str(d.envelope["text"]) for d in chat.deliveries]


def test_the_partners_app_and_the_team_hear_what_they_must_act_on(tmp_path: Path) -> None:
    chromium = _chromium_or_skip()
    env = partner_env()
    secret = env[PARTNER_SECRET_ENV]
    with served_codat(tmp_path) as codat, receiver() as app, receiver() as chat:
        desired = customers_file(tmp_path / "customers.yaml")
        applied = reconcile("apply", str(desired), "--auto-approve", env=codat.env())
        assert applied.returncode == 0, applied.stderr
        notify = notify_file(
            tmp_path / "notify.yaml",
            partner_channel(app.url),
            f"{{kind: slack, name: team, url: '{chat.url}'}}",
        )
        args = (str(desired), "--notify", str(notify), "--resync", "1s")
        with running_watch(codat, *args, env=env) as watch:
            until("20 authorization_needed", lambda: len(app.deliveries) >= CUSTOMERS)
            asked = events(app, secret, "customer.authorization_needed")
            assert sorted(e["data"]["uid"] for e in asked) == UIDS  # one each
            links = [e["data"]["link_url"] for e in asked]
            assert len(set(links)) == CUSTOMERS
            assert all(e["data"]["platform"] == "Xero" for e in asked)

            with sync_playwright() as pw:  # the customers, each from the link the app sent
                browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
                try:
                    page = browser.new_page()
                    page.set_default_timeout(15_000)
                    for link in links:
                        page.goto(link)
                        page.get_by_role("button", name="Authorize").click()
                        page.wait_for_url(re.compile(r"outcome=authorized"))
                finally:
                    browser.close()
            until(
                "20 onboarded",
                lambda: len(events(app, secret, "customer.onboarded")) >= CUSTOMERS,
            )
            onboarded = events(app, secret, "customer.onboarded")
            assert sorted(e["data"]["uid"] for e in onboarded) == UIDS
            assert chat_texts(chat) == []  # nothing for a person so far

            gone = reconcile("sandbox", "deauthorize", "--db", str(codat.db), "--uid", "n-07")
            assert gone.returncode == 0, gone.stderr
            until("the re-authorization", lambda: bool(chat_texts(chat)))
            until(
                "reauthorization_needed",
                lambda: bool(events(app, secret, "customer.reauthorization_needed")),
            )
            (again,) = events(app, secret, "customer.reauthorization_needed")
            assert again["data"]["uid"] == "n-07" and "://" in again["data"]["link_url"]
            (team,) = chat_texts(chat)
            assert "deauthorized: n-07 (Notified n-07)" in team
            company = codat.company_id("n-07")
            assert "://" not in team and company not in team  # never a Link URL to the team
            assert company in again["data"]["link_url"]  # control: the app's link names it
            metrics = watch.get("/metrics").text
            assert 'reconcile_notifications_total{channel="app",outcome="sent"} 41.0' in metrics
            passes = watch.status()["passes"]
            assert watch.stop() == 143
        told = (len(app.deliveries), len(chat.deliveries))
        assert told == (CUSTOMERS * 2 + 1, 1)
        assert passes > 3  # many passes, one notification per change

        with running_watch(codat, *args, env=env) as watch:  # a restart repeats none
            watch.wait_for("two full passes", watch.passes_after(1))
            assert (len(app.deliveries), len(chat.deliveries)) == told

            refused = watch.deliver(connection_event(company), secret=new_secret())
            assert refused.status_code == 401
            took = until("the team hears of the refused delivery", lambda: len(chat.deliveries) > 1)
            assert took < 60
            latest = chat_texts(chat)[-1]
            assert "delivery_refused" in latest and "CODAT_WEBHOOK_SECRET" in latest
            assert watch.deliver(connection_event(company), secret=new_secret()).status_code == 401
            watch.wait_for("another pass", watch.passes_after(watch.status()["passes"]))
            assert len(chat.deliveries) == 2  # once until it recovers, not per delivery
            assert len(app.deliveries) == told[0]  # the watch's health is not the app's business
            assert watch.stop() == 143
