"""Codat's webhook envelopes, built from the outbox's snapshots (Codat-Platform.json `webhooks`).

Every event is `{id, eventType, generatedDate, payload}`. Company events (`CompanyWebhook`) carry
the company's details as the payload; connection events (`ConnectionWebhook`) carry
`{referenceCompany, connection}`, the connection as it was at the change (a deleted one as it
was before the delete, as Codat's own `connection.deleted` example shows). The company
reference's `links.portal` points at the sandbox's page for the company (the sandbox has no
portal). Client events (`ClientRateLimitWebhook`) carry `{dailyQuota, quotaRemaining,
expiryDate}` as the rate limiter recorded it.
"""

from __future__ import annotations

import json
from typing import Any

from reconcile.sandbox.store.sql import Wire, company_wire, connection_wire, error_wire
from reconcile.sandbox.webhooks.store import Event


def _company_details(event: Event) -> Wire:
    assert event.company is not None
    wire = company_wire(event.company, [])
    del wire["dataConnections"]
    return wire


def _company_reference(event: Event) -> Wire:
    assert event.company is not None
    details = company_wire(event.company, [])
    reference: Wire = {"id": details["id"], "name": details["name"]}
    if "description" in details:
        reference["description"] = details["description"]
    reference["links"] = {"portal": details["redirect"]}
    reference["tags"] = details["tags"]
    return reference


def payload(event: Event, *, omit_integration_key: bool = False) -> Wire:
    if event.payload is not None or event.company is None:  # a client event
        return dict(event.payload or {})
    if event.connection is None:
        return _company_details(event)
    connection = connection_wire(event.connection, omit_integration_key)
    if event.errors:
        connection["dataConnectionErrors"] = [error_wire(row) for row in event.errors]
    return {"referenceCompany": _company_reference(event), "connection": connection}


def envelope(event: Event, *, omit_integration_key: bool = False) -> Wire:
    return {
        "id": event.id,
        "eventType": event.event_type,
        "generatedDate": event.generated,
        "payload": payload(event, omit_integration_key=omit_integration_key),
    }


def body(event: Event, *, omit_integration_key: bool = False) -> str:
    """The exact text sent (and signed)."""
    document: Any = envelope(event, omit_integration_key=omit_integration_key)
    return json.dumps(document, separators=(",", ":"))
