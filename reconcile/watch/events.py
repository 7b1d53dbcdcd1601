"""What a verified Codat event hints at. Only the company id and the event type are read: a
status in the payload is never trusted (Codat's own `connection.deleted` example says Linked);
the pass reads the company fresh.

    connection.* / company.*       converge that company; a connection event about an error
                                   (an active dataConnectionErrors entry, connection.failed, or
                                   connection.disconnected with a Deauthorized or Unlinked
                                   status) is shown on /status at once, as reported, until the
                                   company's pass reads it
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
    event_type: str | None = None
    error: str | None = None  # what a connection event reports as wrong (unverified, shown)


MAX_ERROR_TEXT = 200
ERROR_STATUSES = ("Deauthorized", "Unlinked")


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
    if not company:
        return None
    error = _reported_error(payload, kind) if kind.startswith("connection.") else None
    return Hint("company", company_id=company, event_type=kind, error=error)


def _reported_error(payload: dict[str, Any], kind: str) -> str | None:
    connection = payload.get("connection")
    connection = connection if isinstance(connection, dict) else {}
    errors = connection.get("dataConnectionErrors")
    active = [
        e
        for e in (errors if isinstance(errors, list) else [])
        if isinstance(e, dict) and str(e.get("status", "Active")).casefold() == "active"
    ]
    if active:
        newest = active[-1]
        text = newest.get("errorMessage") or newest.get("statusText") or newest.get("statusCode")
        return _short(f"connection error: {text}" if text else "a connection error")
    status = connection.get("status")
    if kind not in ("connection.disconnected", "connection.failed"):
        return None  # created, connected, reconnected, deleted: the pass says what they mean
    if isinstance(status, str) and status in ERROR_STATUSES:
        return f"the connection is {status}"
    if kind == "connection.failed":
        return "the connection failed"
    return None


def _short(text: str) -> str:
    return text if len(text) <= MAX_ERROR_TEXT else text[: MAX_ERROR_TEXT - 1] + "…"


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
