"""`client.rateLimit.reached` when the daily quota runs out, and `client.rateLimit.reset` held
back until the quota resets (Codat-Platform.json `ClientRateLimitWebhook`)."""

from __future__ import annotations

import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from standardwebhooks import Webhook

from reconcile.sandbox.store import Store
from reconcile.sandbox.webhooks.store import WebhookStore
from tests.conftest import AUTH_HEADERS
from tests.sandbox import conforms
from tests.sandbox.webhook_receiver import receiver
from tests.support.oas import load_spec
from tests.support.sandbox_server import serve_sandbox


def test_quota_reached_is_sent_once_and_reset_waits(tmp_path: Path) -> None:
    db = tmp_path / "quota.db"
    with (
        receiver() as hook,
        serve_sandbox(db, "--daily-quota", "4") as url,
        httpx.Client(base_url=url, headers=AUTH_HEADERS) as api,
    ):
        # A consumer filtered on company tags still hears of the client's quota.
        body = {
            "url": hook.url,
            "eventTypes": ["client.rateLimit.reached", "client.rateLimit.reset"],
            "companyTags": ["reconcile.owner:team-a"],
        }
        conforms(api.post("/webhooks", json=body), 201)  # request 1 of 4
        for _ in range(3):
            conforms(api.get("/profile"), 200)
        assert api.get("/profile").status_code == 429
        assert api.get("/profile").status_code == 429
        (reached,) = hook.wait_for(lambda seen: len(seen) == 1)
        time.sleep(0.3)
        assert len(hook.deliveries) == 1

    envelope = reached.envelope
    validator = load_spec("platform").validator("/components/schemas/ClientRateLimitWebhook")
    assert not [e.message for e in validator.iter_errors(envelope)], envelope
    assert envelope["eventType"] == "client.rateLimit.reached"
    today = datetime.now(UTC).date()
    tomorrow = datetime(today.year, today.month, today.day, tzinfo=UTC) + timedelta(days=1)
    assert envelope["payload"] == {
        "dailyQuota": 4,
        "quotaRemaining": 0,
        "expiryDate": tomorrow.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    secret = WebhookStore(Store(db)).consumers()[0].secret
    assert Webhook(secret).verify(reached.body, reached.headers) == envelope

    with sqlite3.connect(db) as conn:
        waiting = conn.execute(
            "SELECT event_type, not_before, payload FROM webhook_outbox WHERE fanned_out = 0"
        ).fetchall()
    assert [(kind, at) for kind, at, _ in waiting] == [
        ("client.rateLimit.reset", tomorrow.timestamp())
    ]
    assert '"quotaRemaining": 4' in waiting[0][2]
