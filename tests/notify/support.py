"""Shared pieces of the notification tests: a notifications file, a clock to move by hand, a
Link URL reader that hands out a fresh URL on each read, and the partner app's verification."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from standardwebhooks.webhooks import Webhook

from reconcile.facts.links import LinkRead
from tests.sandbox.webhook_receiver import Delivery
from tests.watch.helpers import new_secret

PARTNER_SECRET_ENV = "TEST_PARTNER_WEBHOOK_SECRET"


def notify_file(path: Path, *channels: str, reminder: str = "3d") -> Path:
    body = "".join(f"  - {channel}\n" for channel in channels)
    path.write_text(f"reminders: {{after: {reminder}}}\nchannels:\n{body}", encoding="utf-8")
    return path


def partner_channel(url: str) -> str:
    return f"{{kind: partner_webhook, name: app, url: '{url}', secret_env: {PARTNER_SECRET_ENV}}}"


@dataclass
class Clock:
    now: datetime = field(default_factory=lambda: datetime(2026, 12, 1, 9, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@dataclass
class FreshLinks:
    """Like Codat with one-time Link URLs: a new URL each read, while the connection waits."""

    base: str = "https://link.example/companies"
    status: str = "PendingAuth"
    reads: list[tuple[str, str]] = field(default_factory=list)

    async def __call__(self, company_id: str, connection_id: str) -> LinkRead:
        self.reads.append((company_id, connection_id))
        if self.status not in ("PendingAuth", "Deauthorized"):
            return LinkRead(self.status, None)
        return LinkRead(
            self.status, f"{self.base}/{company_id}/{connection_id}?n={len(self.reads)}"
        )


def verified(delivery: Delivery, secret: str) -> dict[str, Any]:
    """What the partner's app does with a delivery: verify it as it verifies Codat's (raises
    when the signature does not match)."""
    Webhook(secret).verify(delivery.body, delivery.headers)
    document: dict[str, Any] = json.loads(delivery.body)
    return document


def partner_env() -> dict[str, str]:
    return {PARTNER_SECRET_ENV: new_secret()}
