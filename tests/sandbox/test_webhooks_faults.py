"""`sandbox serve --webhook-drop-rate/--webhook-duplicate-rate`: lost and repeated deliveries,
reproducible with `--seed`."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import httpx
from standardwebhooks import Webhook

from reconcile.sandbox.store import Store
from reconcile.sandbox.webhooks.store import WebhookStore
from tests.conftest import AUTH_HEADERS
from tests.sandbox import conforms
from tests.sandbox.webhook_receiver import Receiver, receiver
from tests.support.cli import run_sandbox
from tests.support.sandbox_server import serve_sandbox

SETTLED = ("delivered", "dropped", "failed")


def run(db: Path, hook: Receiver, companies: int, *flags: str) -> list[str]:
    """Serve `db` with `flags`, create `companies` companies; each delivery's final state."""
    with (
        serve_sandbox(db, *flags) as url,
        httpx.Client(base_url=url, headers=AUTH_HEADERS) as api,
    ):
        body = {"url": hook.url, "eventTypes": ["company.created"]}
        conforms(api.post("/webhooks", json=body), 201)
        for i in range(companies):
            conforms(api.post("/companies", json={"name": f"Company {i}"}), 200)
        store = WebhookStore(Store(db))
        deadline = time.monotonic() + 15
        while True:
            states = [s[2] for s in store.delivery_states()]
            if len(states) == companies and all(s in SETTLED for s in states):
                return states
            assert time.monotonic() < deadline, states
            time.sleep(0.05)


def test_dropped_deliveries_never_arrive(tmp_path: Path) -> None:
    with receiver() as hook:
        states = run(tmp_path / "drop.db", hook, 3, "--webhook-drop-rate", "1")
        time.sleep(0.3)
        assert states == ["dropped"] * 3
        assert hook.deliveries == []


def test_duplicated_deliveries_arrive_twice_with_one_id(tmp_path: Path) -> None:
    with receiver() as hook:
        states = run(tmp_path / "dup.db", hook, 3, "--webhook-duplicate-rate", "1")
        assert states == ["delivered"] * 3
        seen = hook.wait_for(lambda seen: len(seen) == 6)
        ids = [d.headers["webhook-id"] for d in seen]
        assert len(set(ids)) == 3 and all(ids.count(i) == 2 for i in ids)
        secret = WebhookStore(Store(tmp_path / "dup.db")).consumers()[0].secret
        for delivery in seen:
            Webhook(secret).verify(delivery.body, delivery.headers)


def test_the_seed_makes_the_faults_reproducible(tmp_path: Path) -> None:
    flags = ("--seed", "3", "--webhook-drop-rate", "0.5")
    with receiver() as first, receiver() as second:
        one = run(tmp_path / "one.db", first, 12, *flags)
        two = run(tmp_path / "two.db", second, 12, *flags)
    assert one == two
    assert set(one) == {"delivered", "dropped"}
    assert len(first.deliveries) == one.count("delivered")


def test_rates_are_checked() -> None:
    done = run_sandbox("serve", "--port", "0", "--webhook-duplicate-rate", "1.5")
    assert done.returncode == 2
    assert "a rate is between 0 and 1" in done.stderr
    assert "Traceback" not in done.stderr


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/nobody-listens"


def test_retries_are_bounded(tmp_path: Path) -> None:
    """A receiver that keeps failing, and one that is down, get 1 + len(delays) attempts."""
    db = tmp_path / "retries.db"
    with (
        receiver(failures=100) as failing,
        serve_sandbox(db, "--webhook-retry-delays", "0.05,0.1") as url,
        httpx.Client(base_url=url, headers=AUTH_HEADERS) as api,
    ):
        for target in (failing.url, closed_port_url()):
            body = {"url": target, "eventTypes": ["company.created"]}
            conforms(api.post("/webhooks", json=body), 201)
        conforms(api.post("/companies", json={"name": "Unlucky"}), 200)
        store = WebhookStore(Store(db))
        deadline = time.monotonic() + 15
        while [s[2] for s in store.delivery_states()] != ["failed", "failed"]:
            assert time.monotonic() < deadline, store.delivery_states()
            time.sleep(0.05)
        assert [s[3] for s in store.delivery_states()] == [3, 3]
        assert len(failing.refused) == 3
        assert len({d.headers["webhook-id"] for d in failing.refused}) == 1


def test_retry_delays_are_checked() -> None:
    done = run_sandbox("serve", "--port", "0", "--webhook-retry-delays", "1,soon")
    assert done.returncode == 2
    assert "comma-separated numbers of seconds" in done.stderr
    assert "Traceback" not in done.stderr


def test_svix_header_names(tmp_path: Path) -> None:
    """`--webhook-svix-headers`: Codat's older names, the same Standard Webhooks signature."""
    db = tmp_path / "svix.db"
    with receiver() as hook:
        run(db, hook, 1, "--webhook-svix-headers")
        (delivery,) = hook.wait_for(lambda seen: len(seen) == 1)
    assert not any(name.startswith("webhook-") for name in delivery.headers)
    renamed = {
        name.replace("svix-", "webhook-"): value
        for name, value in delivery.headers.items()
        if name.startswith("svix-")
    }
    assert set(renamed) == {"webhook-id", "webhook-timestamp", "webhook-signature"}
    secret = WebhookStore(Store(db)).consumers()[0].secret
    assert Webhook(secret).verify(delivery.body, renamed) == delivery.envelope
