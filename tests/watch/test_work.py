"""The pieces a delivery goes through before any pass: what an event hints at, and the queue
that coalesces hints per company."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from reconcile.watch.events import read_hint
from reconcile.watch.work import WorkQueue

COMPANY = "8a210b68-6988-11ed-a1eb-0242ac120002"


def test_an_event_hints_at_its_company_only() -> None:
    connection = {
        "eventType": "connection.deleted",
        "payload": {"referenceCompany": {"id": COMPANY}, "connection": {"status": "Linked"}},
    }
    hint = read_hint(connection)
    assert hint is not None and (hint.kind, hint.company_id) == ("company", COMPANY)
    company = read_hint({"eventType": "company.created", "payload": {"id": COMPANY}})
    assert company is not None and company.company_id == COMPANY
    assert read_hint({"eventType": "read.completed", "payload": {"companyId": COMPANY}}) is None
    assert read_hint({"eventType": "connection.connected", "payload": {}}) is None
    hostile = {
        "eventType": "connection.connected",
        "payload": {"referenceCompany": {"id": "../../companies\n"}},
    }
    assert read_hint(hostile) is None


def test_quota_events_carry_a_plausible_reset_only() -> None:
    soon = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=2)
    reached = read_hint(
        {
            "eventType": "client.rateLimit.reached",
            "payload": {"expiryDate": soon.isoformat().replace("+00:00", "Z")},
        }
    )
    assert reached is not None and reached.resets_at == soon
    far = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    for expiry in (far, "2000-01-01T00:00:00Z", "soon", None):
        hint = read_hint(
            {"eventType": "client.rateLimit.reached", "payload": {"expiryDate": expiry}}
        )
        assert hint is not None and hint.kind == "quota_reached" and hint.resets_at is None
    reset = read_hint({"eventType": "client.rateLimit.reset"})
    assert reset is not None and reset.kind == "quota_reset"


def test_the_queue_coalesces_per_company_and_a_full_pass_covers_all() -> None:
    async def go() -> None:
        queue = WorkQueue(max_companies=3)
        for company in ("a", "b", "a", "a"):
            queue.company(company)
        assert queue.queued == 2
        batch = queue.take()
        assert batch is not None and batch.company_ids == frozenset({"a", "b"})
        assert queue.take() is None
        await asyncio.wait_for(queue.wait(0.05), 1)  # nothing queued: returns after the timeout
        for company in ("c", "d", "e", "f"):  # beyond the cap: one full pass instead
            queue.company(company)
        batch = queue.take()
        assert batch is not None and batch.company_ids is None and queue.take() is None

    asyncio.run(go())
