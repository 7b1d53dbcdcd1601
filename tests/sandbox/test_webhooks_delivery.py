"""The served sandbox sends Codat's webhooks: every transition, signed per Standard Webhooks,
filtered by event type and company tags, including changes another process makes."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from reconcile.sandbox.store import Store
from reconcile.sandbox.webhooks.store import WebhookStore, new_secret
from tests.sandbox import conforms
from tests.sandbox.test_webhooks_api import api, served
from tests.sandbox.webhook_receiver import Delivery, Receiver, receiver
from tests.support.cli import run_sandbox
from tests.support.oas import load_spec
from tests.support.sandbox_server import PROJECT_ROOT

T = TypeVar("T")
SCHEMAS = {"company": "CompanyWebhook", "connection": "ConnectionWebhook"}


def secret_of(db: Path, consumer_id: str) -> str:
    return next(c.secret for c in WebhookStore(Store(db)).consumers() if c.id == consumer_id)


__all__ = ["api", "served"]  # the fixtures, shared with tests/sandbox/test_webhooks_api.py


def subscribe(api: httpx.Client, url: str, **fields: Any) -> dict[str, Any]:
    consumer: dict[str, Any] = conforms(api.post("/webhooks", json={"url": url, **fields}), 201)
    return consumer


def sandbox_cli(*args: str) -> str:
    done = run_sandbox(*args)
    assert done.returncode == 0, done.stderr
    return done.stdout


def conforming(delivery: Delivery) -> dict[str, Any]:
    """The envelope, checked against the spec's schema for its event type."""
    envelope = delivery.envelope
    schema = SCHEMAS[envelope["eventType"].split(".")[0]]
    validator = load_spec("platform").validator(f"/components/schemas/{schema}")
    errors = [e.message for e in validator.iter_errors(envelope)]
    assert not errors, (envelope, errors)
    assert set(envelope) == {"id", "eventType", "generatedDate", "payload"}
    return envelope


def wait_until(found: Callable[[], T], timeout: float = 10.0) -> T:
    deadline = time.monotonic() + timeout
    while not (result := found()):
        assert time.monotonic() < deadline, f"nothing after {timeout}s"
        time.sleep(0.05)
    return result


def events_of(hook: Receiver, company_id: str) -> list[tuple[str, str | None]]:
    """(eventType, connection status) of the deliveries about one company, in arrival order."""
    found = []
    for delivery in hook.deliveries:
        payload = delivery.envelope["payload"]
        company = payload.get("referenceCompany", payload)
        if company["id"] == company_id:
            connection = payload.get("connection")
            found.append((delivery.envelope["eventType"], connection and connection["status"]))
    return found


def test_every_transition_is_sent_signed_and_conforming(
    api: httpx.Client, served: tuple[str, Path]
) -> None:
    db = served[1]
    with receiver() as hook:
        consumer = subscribe(api, hook.url)
        company = conforms(
            api.post("/companies", json={"name": "Hooked", "tags": {"reconcile.uid": "hook-1"}}),
            200,
        )
        cid = company["id"]
        connection = api.post(f"/companies/{cid}/connections", json={"platformKey": "gbol"}).json()
        path = f"/companies/{cid}/connections/{connection['id']}"
        # The customer, from another process writing the SQLite file
        sandbox_cli("authorize", "--db", str(db), "--uid", "hook-1")
        sandbox_cli("deauthorize", "--db", str(db), "--uid", "hook-1")
        sandbox_cli("authorize", "--db", str(db), "--uid", "hook-1")
        hook.wait_for(lambda seen: len(seen) == 5)
        assert api.patch(path, json={"status": "Unlinked"}).status_code == 200
        assert api.delete(path).status_code == 200
        assert api.delete(f"/companies/{cid}").status_code == 204
        hook.wait_for(lambda seen: len(seen) == 8)

        assert events_of(hook, cid) == [
            ("company.created", None),
            ("connection.created", "PendingAuth"),
            ("connection.connected", "Linked"),
            ("connection.disconnected", "Deauthorized"),
            ("connection.reconnected", "Linked"),
            ("connection.disconnected", "Unlinked"),
            ("connection.deleted", "Unlinked"),
            ("company.deleted", None),
        ]
        webhook = Webhook(secret_of(db, consumer["id"]))
        for delivery in hook.deliveries:
            envelope = conforming(delivery)
            assert webhook.verify(delivery.body, delivery.headers) == envelope
            assert delivery.headers["webhook-id"] == envelope["id"]
            assert delivery.headers["content-type"] == "application/json"
            assert delivery.path == "/hooks/codat"
        assert len({d.headers["webhook-id"] for d in hook.deliveries}) == 8
        connected = hook.of_type("connection.connected")[0].envelope["payload"]
        assert connected["referenceCompany"]["tags"] == {"reconcile.uid": "hook-1"}
        assert connected["connection"]["id"] == connection["id"]
        assert connected["connection"]["linkUrl"] == connection["linkUrl"]
        assert hook.of_type("company.created")[0].envelope["payload"]["name"] == "Hooked"

        tampered = hook.deliveries[0]
        with pytest.raises(WebhookVerificationError):
            webhook.verify(tampered.body.replace(b"Hooked", b"Forged"), tampered.headers)
        with pytest.raises(WebhookVerificationError):
            Webhook(new_secret()).verify(tampered.body, tampered.headers)


def test_event_types_and_company_tags_filter(api: httpx.Client) -> None:
    with receiver() as team_a, receiver() as created_only, receiver() as disabled:
        subscribe(api, team_a.url, companyTags=["team:a", "team:c"])
        subscribe(api, created_only.url, eventTypes=["company.created"])
        subscribe(api, disabled.url, disabled=True)
        ids = {}
        for team in ("a", "b", "c"):
            body = {"name": f"Team {team}", "tags": {"team": team}}
            ids[team] = conforms(api.post("/companies", json=body), 200)["id"]
            api.post(f"/companies/{ids[team]}/connections", json={"platformKey": "qhyg"})
        team_a.wait_for(lambda seen: len(seen) == 4)
        created_only.wait_for(lambda seen: len(seen) == 3)
        assert events_of(team_a, ids["a"]) == [
            ("company.created", None),
            ("connection.created", "PendingAuth"),
        ]
        assert events_of(team_a, ids["c"]) == events_of(team_a, ids["a"])
        assert events_of(team_a, ids["b"]) == []
        assert {d.envelope["eventType"] for d in created_only.deliveries} == {"company.created"}
        assert disabled.deliveries == []


def test_a_failing_receiver_gets_retries_with_the_same_id(
    api: httpx.Client, served: tuple[str, Path]
) -> None:
    with receiver(failures=2) as hook:
        consumer = subscribe(api, hook.url, eventTypes=["company.created"])
        company = conforms(api.post("/companies", json={"name": "Retried"}), 200)
        delivered = hook.wait_for(lambda seen: len(seen) == 1)[0]
        assert delivered.envelope["payload"]["id"] == company["id"]
        assert [d.headers["webhook-id"] for d in hook.refused] == [
            delivered.headers["webhook-id"]
        ] * 2
        Webhook(secret_of(served[1], consumer["id"])).verify(delivered.body, delivered.headers)
        states = WebhookStore(Store(served[1])).delivery_states()
        assert [s for s in states if s[1] == consumer["id"]] == [
            ("company.created", consumer["id"], "delivered", 3)
        ]


def test_a_consumer_that_is_not_loopback_is_never_sent_to(
    api: httpx.Client, served: tuple[str, Path]
) -> None:
    """Even a consumer written into the file behind the API's back gets nothing."""
    store = WebhookStore(Store(served[1]))
    outside = store.create_consumer("https://example.com/hooks", [], None, False, limit=50)
    assert outside is not None
    conforms(api.post("/companies", json={"name": "Kept home"}), 200)

    def settled() -> list[tuple[str, str, str, int]]:
        return [s for s in store.delivery_states() if s[1] == outside.id and s[2] == "failed"]

    refused = wait_until(settled)
    assert refused == [("company.created", outside.id, "failed", 1)]


TOKEN = re.compile(r'name="token" value="([0-9a-f]+)"')


def test_the_link_page_sends_connected_and_disconnected(api: httpx.Client) -> None:
    """The customer's clicks on the served Link page (the browser's path) send events too."""
    with receiver() as hook:
        subscribe(api, hook.url, eventTypes=["connection.connected", "connection.disconnected"])
        cid = conforms(api.post("/companies", json={"name": "Clicked"}), 200)["id"]
        connection = api.post(f"/companies/{cid}/connections", json={"platformKey": "gbol"}).json()
        start = httpx.URL(connection["linkUrl"]).raw_path.decode()
        with httpx.Client(base_url=str(api.base_url)) as browser:
            for action in ("authorize", "revoke"):
                token = TOKEN.search(browser.get(start).text)
                assert token is not None
                answer = browser.post(
                    start.removesuffix("/start") + f"/{action}", data={"token": token.group(1)}
                )
                assert answer.status_code == 303, answer.text
        hook.wait_for(lambda seen: len(seen) == 2)
        assert events_of(hook, cid) == [
            ("connection.connected", "Linked"),
            ("connection.disconnected", "Deauthorized"),
        ]


def test_an_in_process_apply_on_the_same_file_is_heard(
    api: httpx.Client, served: tuple[str, Path]
) -> None:
    """`reconcile apply --sandbox-db` writes the served file from its own process: the server
    sends what it did, filtered to the owner's tag as `watch --register` asks."""
    with receiver() as hook:
        subscribe(
            api,
            hook.url,
            eventTypes=["company.created", "connection.created"],
            companyTags=["reconcile.owner:expenses-demo"],
        )
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "reconcile",
                "apply",
                "examples/customers.yaml",
                "--sandbox-db",
                str(served[1]),
                "--auto-approve",
            ],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        companies = [
            c
            for c in api.get("/companies", params={"pageSize": 5000}).json()["results"]
            if c["tags"].get("reconcile.owner") == "expenses-demo"
        ]
        connections = sum(len(c["dataConnections"]) for c in companies)
        assert companies and connections
        seen = hook.wait_for(lambda seen: len(seen) == len(companies) + connections)
        assert {d.envelope["eventType"] for d in seen} == {"company.created", "connection.created"}
        created = {d.envelope["payload"]["id"] for d in hook.of_type("company.created")}
        assert created == {c["id"] for c in companies}
