"""The outbox on a real SQLite file: what the triggers record, in the changing transaction, and
the envelopes built from it (no server: the served tests show the delivery)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reconcile.sandbox.store import Store
from reconcile.sandbox.webhooks.events import envelope
from reconcile.sandbox.webhooks.store import WebhookStore
from tests.support.oas import load_spec

LINK = "http://127.0.0.1:8765"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "sandbox.db")
    yield s
    s.close()


def sent(hooks: WebhookStore, **options: Any) -> list[dict[str, Any]]:
    """The envelopes due now, one consumer at a time, as the dispatcher would claim them."""
    hooks.fan_out(time.time())
    found = []
    while claimed := hooks.claim_due(time.time(), 30, 50):
        for delivery in claimed:
            found.append(envelope(delivery.event, **options))
            hooks.delivered(delivery.seq, 200)
    return found


def conforming(document: dict[str, Any]) -> dict[str, Any]:
    kind = {"company": "CompanyWebhook", "connection": "ConnectionWebhook"}
    schema = kind[document["eventType"].split(".")[0]]
    validator = load_spec("platform").validator(f"/components/schemas/{schema}")
    assert not [e.message for e in validator.iter_errors(document)], document
    return document


def test_nothing_is_recorded_without_an_enabled_consumer(store: Store) -> None:
    hooks = WebhookStore(store)
    assert hooks.create_consumer("http://127.0.0.1:9/", [], None, True, limit=50)
    company = store.create_company("Quiet", None, {})
    store.create_connection(company["id"], "gbol", LINK)
    assert not hooks.has_work(time.time())
    assert sent(hooks) == []


def test_a_rolled_back_change_sends_nothing(store: Store) -> None:
    hooks = WebhookStore(store)
    hooks.create_consumer("http://127.0.0.1:9/", [], None, False, limit=50)
    with pytest.raises(RuntimeError), store.transaction():
        store.create_company("Never", None, {})
        raise RuntimeError("the change fails")
    assert sent(hooks) == []


def test_snapshots_hold_the_moment_of_the_change(store: Store) -> None:
    hooks = WebhookStore(store)
    hooks.create_consumer("http://127.0.0.1:9/", ["connection.disconnected"], None, False, limit=50)
    company = store.create_company("Snap", "before", {"k": "v"})
    connection = store.create_connection(company["id"], "qhyg", LINK)
    store.set_connection_status(company["id"], connection["id"], "Linked")
    store.add_connection_error(
        company["id"], connection["id"], "The integration de-authorized access.", status_code="401"
    )
    store.set_connection_status(company["id"], connection["id"], "Deauthorized")
    store.update_company(company["id"], name="Renamed afterwards", description=None)

    (disconnected,) = sent(hooks)
    conforming(disconnected)
    reference = disconnected["payload"]["referenceCompany"]
    assert reference == {
        "id": company["id"],
        "name": "Snap",
        "description": "before",
        "links": {"portal": company["redirect"]},
        "tags": {"k": "v"},
    }
    wire = disconnected["payload"]["connection"]
    assert wire["status"] == "Deauthorized" and wire["integrationKey"] == "qhyg"
    assert [e["errorMessage"] for e in wire["dataConnectionErrors"]] == [
        "The integration de-authorized access."
    ]


def test_integration_key_is_left_off_when_the_sandbox_omits_it(store: Store) -> None:
    hooks = WebhookStore(store)
    hooks.create_consumer("http://127.0.0.1:9/", ["connection.created"], None, False, limit=50)
    company = store.create_company("Keyless", None, {})
    store.create_connection(company["id"], "gbol", LINK)
    (created,) = sent(hooks, omit_integration_key=True)
    assert "integrationKey" not in conforming(created)["payload"]["connection"]


def test_a_company_deleted_with_its_connections_sends_only_company_deleted(store: Store) -> None:
    hooks = WebhookStore(store)
    company = store.create_company("Doomed", None, {})
    store.create_connection(company["id"], "gbol", LINK)
    hooks.create_consumer("http://127.0.0.1:9/", [], None, False, limit=50)
    store.delete_company(company["id"])
    (deleted,) = sent(hooks)
    assert conforming(deleted)["eventType"] == "company.deleted"
    assert deleted["payload"]["id"] == company["id"] and deleted["payload"]["name"] == "Doomed"


def test_status_changes_without_a_codat_event_send_nothing(store: Store) -> None:
    """PendingAuth -> Deauthorized, or setting the same status, is no connect or disconnect."""
    hooks = WebhookStore(store)
    company = store.create_company("Odd", None, {})
    connection = store.create_connection(company["id"], "gbol", LINK)
    hooks.create_consumer("http://127.0.0.1:9/", [], None, False, limit=50)
    store.set_connection_status(company["id"], connection["id"], "PendingAuth")
    store.set_connection_status(company["id"], connection["id"], "Deauthorized")
    assert sent(hooks) == []
    store.set_connection_status(company["id"], connection["id"], "Linked")
    assert [e["eventType"] for e in sent(hooks)] == ["connection.reconnected"]


def test_the_partner_expense_connection_is_created_linked(store: Store) -> None:
    hooks = WebhookStore(store)
    company = store.create_company("Expensed", None, {})
    accounting = store.create_connection(company["id"], "gbol", LINK)
    store.set_connection_status(company["id"], accounting["id"], "Linked")
    hooks.create_consumer("http://127.0.0.1:9/", [], None, False, limit=50)
    store.create_partner_expense_connection(company["id"], LINK)
    (created,) = sent(hooks)
    connection = conforming(created)["payload"]["connection"]
    assert (created["eventType"], connection["sourceType"], connection["status"]) == (
        "connection.created",
        "Expense",
        "Linked",
    )
