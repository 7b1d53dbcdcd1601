"""The serving sandbox's webhook dispatcher: delivers the outbox to the consumers, as Codat does.

A daemon thread polls the SQLite file every `POLL_SECONDS` (so events recorded by another
process, e.g. `reconcile sandbox authorize`, go out too), fans each new event out to the
consumers that want it (event types; `companyTags` as `key:value`, any one matching), and hands
due deliveries to a small pool of senders, one at a time per consumer (so a consumer sees events
in the order they happened, unless a retry comes in between, as with Codat).

Each delivery is a POST of Codat's envelope, signed per Standard Webhooks with the consumer's
`whsec_` secret (`webhook-id` = the event id, kept across retries so a receiver can deduplicate;
`webhook-timestamp`; `webhook-signature: v1,...`), to loopback URLs only. A 2xx is delivered;
anything else (an error status, no answer within `TIMEOUT_SECONDS`) is retried after each of
`options.webhook_retry_delays` in turn, then given up.

`webhook_svix_headers` sends `svix-id`, `svix-timestamp` and `svix-signature` instead: the names
Codat's webhooks carried before Standard Webhooks (same values, same signature).

Faults, drawn in claim order from a generator seeded with `--seed`: `webhook_drop_rate` loses a
delivery for good (as a webhook lost on the way would be), `webhook_duplicate_rate` sends a
delivered one a second time with the same `webhook-id`.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Final

import httpx
from standardwebhooks import Webhook

from reconcile.sandbox.options import SandboxOptions
from reconcile.sandbox.store.db import StoreDB
from reconcile.sandbox.webhooks.events import body
from reconcile.sandbox.webhooks.store import Claimed, WebhookStore, url_problem

log = logging.getLogger("reconcile.sandbox.webhooks")

POLL_SECONDS: Final = 0.05
SENDERS: Final = 8
TIMEOUT_SECONDS: Final = 10.0
# A claimed delivery is retried by anyone once this passes (its sender died mid-send).
LEASE_SECONDS: Final = TIMEOUT_SECONDS * 2 + 10
PRUNE_EVERY_SECONDS: Final = 60.0
USER_AGENT: Final = "Codat-Sandbox-Webhooks/1.0"


def signed_headers(
    secret: str, message_id: str, text: str, now: datetime, prefix: str = "webhook"
) -> dict[str, str]:
    """Standard Webhooks headers for `text`, signed with `secret` (`whsec_...`) at `now`; with
    `prefix="svix"`, the same under the names Codat's webhooks (Svix) used before."""
    return {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        f"{prefix}-id": message_id,
        f"{prefix}-timestamp": str(int(now.timestamp())),
        f"{prefix}-signature": Webhook(secret).sign(message_id, now, text),
    }


class WebhookDispatcher:
    """Delivers the outbox of one sandbox file from a daemon thread until `stop()`."""

    def __init__(self, db: StoreDB, options: SandboxOptions) -> None:
        self.store = WebhookStore(db)
        self.options = options
        seed = options.seed
        self._random = random.Random(None if seed is None else f"webhooks:{seed}")
        self._stop = threading.Event()
        self._wake = threading.Event()  # a sender finished (its consumer may have more), or stop
        self._thread = threading.Thread(target=self._run, name="sandbox-webhooks", daemon=True)
        self._senders = ThreadPoolExecutor(SENDERS, thread_name_prefix="sandbox-webhook-send")
        self._busy = threading.Semaphore(SENDERS)
        self._http = httpx.Client(timeout=TIMEOUT_SECONDS, trust_env=False)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        self._senders.shutdown(wait=False, cancel_futures=True)
        self._http.close()

    def _run(self) -> None:
        pruned_at = 0.0
        while not self._stop.is_set():
            self._wake.clear()  # a sender finishing from here on wakes the wait below
            try:
                if time.monotonic() - pruned_at > PRUNE_EVERY_SECONDS:
                    self.store.prune()
                    pruned_at = time.monotonic()
                self.step()
            except Exception:  # a locked or vanished file: keep trying, as Codat would
                log.exception("webhook dispatch failed; retrying")
            self._wake.wait(POLL_SECONDS)

    def step(self) -> int:
        """Fan out new events and start due deliveries; how many deliveries started."""
        now = time.time()
        if not self.store.has_work(now):
            return 0
        self.store.fan_out(now)
        free = 0
        while self._busy.acquire(blocking=False):
            free += 1
        claimed = self.store.claim_due(now, LEASE_SECONDS, free) if free else []
        for _ in range(free - len(claimed)):
            self._busy.release()
        for delivery in claimed:
            drop = self._random.random() < self.options.webhook_drop_rate
            duplicate = self._random.random() < self.options.webhook_duplicate_rate
            self._senders.submit(
                self._deliver, delivery, drop and delivery.attempts == 0, duplicate
            )
        return len(claimed)

    def _deliver(self, delivery: Claimed, drop: bool, duplicate: bool) -> None:
        try:
            self._attempt(delivery, drop, duplicate)
        except Exception:
            log.exception("webhook delivery %s failed", delivery.seq)
        finally:
            self._busy.release()
            self._wake.set()

    def _attempt(self, delivery: Claimed, drop: bool, duplicate: bool) -> None:
        event, consumer = delivery.event, delivery.consumer
        if drop:
            log.info("webhook %s %s to %s: dropped", event.event_type, event.id, consumer.url)
            self.store.dropped(delivery.seq)
            return
        if (problem := url_problem(consumer.url)) is not None:
            log.warning("webhook %s to %s refused: %s", event.id, consumer.url, problem)
            self.store.failed(delivery.seq, None, None, problem)
            return
        text = body(event, omit_integration_key=self.options.omit_integration_key)
        status, error = self._post(consumer.url, consumer.secret, event.id, text)
        if error is None and duplicate:
            self._post(consumer.url, consumer.secret, event.id, text)
        if error is None:
            self.store.delivered(delivery.seq, status or 0)
            return
        delays = self.options.webhook_retry_delays
        retry_at = (
            time.time() + delays[delivery.attempts] if delivery.attempts < len(delays) else None
        )
        log.info(
            "webhook %s %s to %s: %s (%s)",
            event.event_type,
            event.id,
            consumer.url,
            error,
            "will retry" if retry_at is not None else "giving up",
        )
        self.store.failed(delivery.seq, retry_at, status, error)

    def _post(
        self, url: str, secret: str, message_id: str, text: str
    ) -> tuple[int | None, str | None]:
        """(status, None) on a 2xx; (status or None, why) otherwise."""
        prefix = "svix" if self.options.webhook_svix_headers else "webhook"
        headers = signed_headers(secret, message_id, text, datetime.now(UTC), prefix)
        try:
            response = self._http.post(url, content=text.encode("utf-8"), headers=headers)
        except httpx.HTTPError as exc:
            return None, f"{type(exc).__name__}: {exc}"
        if 200 <= response.status_code < 300:
            return response.status_code, None
        return response.status_code, f"answered {response.status_code}"
