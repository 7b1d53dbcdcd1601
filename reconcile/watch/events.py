"""What a verified Codat event hints at. Only the company id and the event type are read: a
status in the payload is never trusted (Codat's own `connection.deleted` example says Linked);
the pass reads the company fresh.

    connection.* / company.*       converge that company
    client.rateLimit.reached       pause writes until the reset (`expiryDate`, when readable)
    client.rateLimit.reset         resume, with a full pass
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

COMPANY_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$")
QUOTA_REACHED = "client.rateLimit.reached"
QUOTA_RESET = "client.rateLimit.reset"
LONGEST_QUOTA_PAUSE = timedelta(hours=25)  # a daily quota resets within a day
EVENT_TYPES = (
    "company.created",
    "company.deleted",
    "connection.created",
    "connection.connected",
    "connection.disconnected",
    "connection.reconnected",
    "connection.deleted",
    "connection.failed",
    QUOTA_REACHED,
    QUOTA_RESET,
)


@dataclass(frozen=True)
class Hint:
    kind: Literal["company", "quota_reached", "quota_reset"]
    company_id: str | None = None
    resets_at: datetime | None = None


def read_hint(event: dict[str, Any]) -> Hint | None:
    kind = event.get("eventType")
    payload = event.get("payload")
    payload = payload if isinstance(payload, dict) else {}
    if kind == QUOTA_REACHED:
        return Hint("quota_reached", resets_at=_reset_time(payload.get("expiryDate")))
    if kind == QUOTA_RESET:
        return Hint("quota_reset")
    if not isinstance(kind, str) or not kind.startswith(("company.", "connection.")):
        return None
    company = _company_id(payload, kind)
    return Hint("company", company_id=company) if company else None


def _company_id(payload: dict[str, Any], kind: str) -> str | None:
    reference = payload.get("referenceCompany")
    candidates = [
        reference.get("id") if isinstance(reference, dict) else None,
        payload.get("companyId"),
        payload.get("id") if kind.startswith("company.") else None,
    ]
    for candidate in candidates:
        if isinstance(candidate, str) and COMPANY_ID.match(candidate):
            return candidate
    return None


def _reset_time(value: object) -> datetime | None:
    """When the quota resets, if the payload says so plausibly (within a day from now)."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    now = datetime.now(UTC)
    return moment if now < moment <= now + LONGEST_QUOTA_PAUSE else None
