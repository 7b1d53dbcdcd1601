"""The webhook tables of the sandbox's SQLite file: consumers (Codat's `WebhookConsumer`), the
outbox the triggers of `schema` fill, and one delivery row per event and consumer.

Deliveries are claimed with a lease (`state = sending`, `due` = when the lease ends) inside a
write transaction, so two serving processes on one file never send the same attempt twice, and
a process that dies mid-send leaves a delivery another one retries once the lease runs out.
"""

from __future__ import annotations

import base64
import json
import secrets
import sqlite3
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import urlsplit

from reconcile.loopback import is_loopback
from reconcile.sandbox.store.db import StoreDB
from reconcile.sandbox.store.sql import NotFound, Wire, now_iso
from reconcile.sandbox.webhooks.schema import (
    ANY_CONSUMER,
    DELIVERED,
    DROPPED,
    FAILED,
    PENDING,
    RATE_LIMIT_REACHED,
    RATE_LIMIT_RESET,
    SENDING,
)

SECRET_PREFIX: Final = "whsec_"
SECRET_BYTES: Final = 24
DAY_SECONDS: Final = 86_400
_CONSUMER_COLUMNS: Final = "id, url, event_types, company_tags, disabled, secret"
_EVENT_COLUMNS: Final = (
    "o.seq, o.id, o.event_type, o.generated, o.company, o.connection, o.errors, o.payload"
)
FAN_OUT_BATCH: Final = 200
# Fanned-out events (and their deliveries) are kept this long, then pruned.
KEEP_SECONDS: Final = 3600
# Deliveries still to send (the partial index `webhook_deliveries_open` covers exactly these).
_OPEN: Final = f"state IN ('{PENDING}', '{SENDING}')"
_READY: Final = "fanned_out = 0 AND (not_before IS NULL OR not_before <= ?)"


def new_secret() -> str:
    """A Standard Webhooks signing secret: `whsec_` and base64 of random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def url_problem(url: str) -> str | None:
    """Why the sandbox will not send to `url` (not absolute http(s), or not loopback); None if
    it will. The sandbox sends nothing off this machine."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 (raises ValueError on a bad port)
    except ValueError:
        return "url is not a valid URL"
    if parts.scheme not in ("http", "https") or not host:
        return "url must be an absolute http or https URL"
    if not is_loopback(host):
        return (
            f"the sandbox delivers webhooks to loopback URLs only (localhost, 127.0.0.1, [::1]),"
            f" not to {host}"
        )
    return None


@dataclass(frozen=True)
class Consumer:
    id: str
    url: str
    event_types: tuple[str, ...]
    company_tags: tuple[str, ...] | None
    disabled: bool
    secret: str

    def to_wire(self) -> Wire:
        """Codat's `WebhookConsumer` (the secret is never part of it)."""
        wire: Wire = {"id": self.id, "url": self.url, "eventTypes": list(self.event_types)}
        if self.company_tags is not None:
            wire["companyTags"] = list(self.company_tags)
        wire["disabled"] = self.disabled
        return wire

    def wants(self, event_type: str, company_tags: dict[str, Any] | None) -> bool:
        """No event types means every event; company tags match when any `key:value` does.
        An event about no company (the client's rate limit) ignores the tag filter."""
        if self.disabled or (self.event_types and event_type not in self.event_types):
            return False
        if not self.company_tags or company_tags is None:
            return True
        present = {f"{key}:{value}" for key, value in company_tags.items()}
        return any(tag in present for tag in self.company_tags)


@dataclass(frozen=True)
class Event:
    """One row of the outbox: snapshots taken by a trigger (see `schema`)."""

    seq: int
    id: str
    event_type: str
    generated: str
    company: list[Any] | None
    connection: list[Any] | None
    errors: list[list[Any]]
    payload: Wire | None  # as recorded (client events); None: built from the snapshots

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> Event:
        seq, event_id, event_type, generated, company, connection, errors, payload = row
        return cls(
            seq=int(seq),
            id=str(event_id),
            event_type=str(event_type),
            generated=str(generated),
            company=None if company is None else list(json.loads(company)),
            connection=None if connection is None else list(json.loads(connection)),
            errors=[] if errors is None else list(json.loads(errors)),
            payload=None if payload is None else dict(json.loads(payload)),
        )

    @property
    def company_tags(self) -> dict[str, Any] | None:
        """The company's tags at the change; None for an event about no company."""
        if self.company is None:
            return None
        tags = json.loads(self.company[5]) if isinstance(self.company[5], str) else {}
        return dict(tags) if isinstance(tags, dict) else {}


@dataclass(frozen=True)
class Claimed:
    """A delivery a dispatcher holds the lease on: what to send, where, and which attempt."""

    seq: int
    attempts: int  # before this one
    consumer: Consumer
    event: Event


def _consumer(row: Sequence[Any]) -> Consumer:
    cid, url, event_types, company_tags, disabled, secret = row
    return Consumer(
        id=cid,
        url=url,
        event_types=tuple(json.loads(event_types)),
        company_tags=None if company_tags is None else tuple(json.loads(company_tags)),
        disabled=bool(disabled),
        secret=secret,
    )


class WebhookStore:
    """Consumers, outbox and deliveries, on the connections and transactions of a `StoreDB`."""

    def __init__(self, db: StoreDB) -> None:
        self.db = db

    # ------------------------------------------------------------------ consumers

    def create_consumer(
        self,
        url: str,
        event_types: Sequence[str],
        company_tags: Sequence[str] | None,
        disabled: bool,
        *,
        limit: int,
    ) -> Consumer | None:
        """A new consumer with a fresh secret; None when `limit` consumers exist already."""
        consumer = Consumer(
            id=str(uuid.uuid4()),
            url=url,
            event_types=tuple(event_types),
            company_tags=None if company_tags is None else tuple(company_tags),
            disabled=disabled,
            secret=new_secret(),
        )
        with self.db.transaction() as conn:
            if conn.execute("SELECT COUNT(*) FROM webhook_consumers").fetchone()[0] >= limit:
                return None
            conn.execute(
                f"INSERT INTO webhook_consumers ({_CONSUMER_COLUMNS}, created)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    consumer.id,
                    consumer.url,
                    json.dumps(list(consumer.event_types)),
                    None if company_tags is None else json.dumps(list(company_tags)),
                    int(disabled),
                    consumer.secret,
                    now_iso(),
                ),
            )
        return consumer

    def consumers(self) -> list[Consumer]:
        with self.db._read() as conn:
            return self._consumers(conn)

    @staticmethod
    def _consumers(conn: sqlite3.Connection) -> list[Consumer]:
        rows = conn.execute(f"SELECT {_CONSUMER_COLUMNS} FROM webhook_consumers ORDER BY seq")
        return [_consumer(row) for row in rows]

    def delete_consumer(self, consumer_id: str) -> None:
        """Delete it and its pending deliveries; NotFound if there is none."""
        with self.db.transaction() as conn:
            deleted = conn.execute(
                "DELETE FROM webhook_consumers WHERE id = ?", (consumer_id,)
            ).rowcount
        if not deleted:
            raise NotFound(f"webhook consumer {consumer_id}")

    # ------------------------------------------------------------------ dispatching

    def has_work(self, now: float) -> bool:
        """Cheap read: events to fan out, or deliveries due (new, retried, or lease expired)."""
        with self.db._read() as conn:
            row = conn.execute(
                f"SELECT EXISTS (SELECT 1 FROM webhook_outbox WHERE {_READY}),"
                " EXISTS (SELECT 1 FROM webhook_deliveries WHERE state IN (?, ?) AND due <= ?)",
                (now, PENDING, SENDING, now),
            ).fetchone()
            return bool(row[0] or row[1])

    def fan_out(self, now: float) -> int:
        """One pending delivery per new event (up to `FAN_OUT_BATCH` of them, so a burst does
        not hold the write lock long) and consumer that wants it; how many."""
        made = 0
        with self.db.transaction() as conn:
            events = [
                Event.from_row(row)
                for row in conn.execute(
                    f"SELECT {_EVENT_COLUMNS} FROM webhook_outbox o WHERE {_READY}"
                    " ORDER BY o.seq LIMIT ?",
                    (now, FAN_OUT_BATCH),
                )
            ]
            if not events:
                return 0
            consumers = self._consumers(conn)
            for event in events:
                for consumer in consumers:
                    if consumer.wants(event.event_type, event.company_tags):
                        conn.execute(
                            "INSERT INTO webhook_deliveries (event_seq, consumer_id, state, due)"
                            " VALUES (?, ?, ?, ?)",
                            (event.seq, consumer.id, PENDING, now),
                        )
                        made += 1
            conn.executemany(
                "UPDATE webhook_outbox SET fanned_out = 1 WHERE seq = ?",
                [(event.seq,) for event in events],
            )
        return made

    def claim_due(self, now: float, lease_seconds: float, limit: int) -> list[Claimed]:
        """Take the lease on up to `limit` due deliveries: each enabled consumer's oldest, unless
        it has one in flight. A consumer gets its events one at a time, in the order they
        happened (a retry aside, as with Codat)."""
        claimed: list[Claimed] = []
        with self.db.transaction() as conn:
            for consumer in self._consumers(conn):
                if len(claimed) >= limit:
                    break
                if (
                    consumer.disabled
                    or conn.execute(
                        f"SELECT 1 FROM webhook_deliveries WHERE {_OPEN} AND consumer_id = ?"
                        " AND state = ? AND due > ? LIMIT 1",
                        (consumer.id, SENDING, now),
                    ).fetchone()
                ):
                    continue
                row = conn.execute(
                    f"SELECT d.seq, d.attempts, {_EVENT_COLUMNS} FROM webhook_deliveries d"
                    " JOIN webhook_outbox o ON o.seq = d.event_seq"
                    f" WHERE d.{_OPEN} AND d.consumer_id = ? AND d.due <= ?"
                    " ORDER BY d.due, d.seq LIMIT 1",
                    (consumer.id, now),
                ).fetchone()
                if row is None:
                    continue
                conn.execute(
                    "UPDATE webhook_deliveries SET state = ?, due = ? WHERE seq = ?",
                    (SENDING, now + lease_seconds, row[0]),
                )
                claimed.append(Claimed(int(row[0]), int(row[1]), consumer, Event.from_row(row[2:])))
        return claimed

    def delivered(self, seq: int, status: int) -> None:
        self._finish(seq, DELIVERED, None, status, None)

    def dropped(self, seq: int) -> None:
        self._finish(seq, DROPPED, None, None, "dropped on purpose (--webhook-drop-rate)")

    def failed(self, seq: int, retry_at: float | None, status: int | None, error: str) -> None:
        """An attempt failed: retry at `retry_at`, or give up (None)."""
        self._finish(seq, PENDING if retry_at is not None else FAILED, retry_at, status, error)

    def _finish(
        self, seq: int, state: str, due: float | None, status: int | None, error: str | None
    ) -> None:
        with self.db.transaction() as conn:
            conn.execute(
                "UPDATE webhook_deliveries SET state = ?, due = COALESCE(?, due),"
                " attempts = attempts + 1, last_status = ?, last_error = ? WHERE seq = ?",
                (state, due, status, error, seq),
            )

    def prune(self) -> int:
        """Forget events fanned out over `KEEP_SECONDS` ago with nothing left to send."""
        with self.db.transaction() as conn:
            return int(
                conn.execute(
                    "DELETE FROM webhook_outbox WHERE fanned_out = 1"
                    " AND generated < strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?)"
                    " AND seq NOT IN"
                    " (SELECT event_seq FROM webhook_deliveries WHERE state IN (?, ?))",
                    (f"-{KEEP_SECONDS} seconds", PENDING, SENDING),
                ).rowcount
            )

    def delivery_states(self) -> list[tuple[str, str, str, int]]:
        """(event type, consumer id, state, attempts) of every delivery, oldest first."""
        with self.db._read() as conn:
            rows = conn.execute(
                "SELECT o.event_type, d.consumer_id, d.state, d.attempts FROM webhook_deliveries d"
                " JOIN webhook_outbox o ON o.seq = d.event_seq ORDER BY d.seq"
            ).fetchall()
        return [(str(a), str(b), str(c), int(n)) for a, b, c, n in rows]


def _iso(unix: float) -> str:
    return datetime.fromtimestamp(unix, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def record_quota_reached(conn: sqlite3.Connection, daily_quota: int, reset: int) -> None:
    """`client.rateLimit.reached` now, and `client.rateLimit.reset` due at `reset` (Unix time),
    on `conn` (the rate limiter's): only while some consumer is enabled (a file no store has
    opened has no webhook tables, so no consumer either)."""
    if not conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'webhook_consumers'"
    ).fetchone():
        return
    events = (
        (RATE_LIMIT_REACHED, None, {"quotaRemaining": 0, "expiryDate": _iso(reset)}),
        (
            RATE_LIMIT_RESET,
            reset,
            {"quotaRemaining": daily_quota, "expiryDate": _iso(reset + DAY_SECONDS)},
        ),
    )
    conn.executemany(
        "INSERT INTO webhook_outbox (id, event_type, generated, payload, not_before)"
        f" SELECT ?, ?, ?, ?, ? WHERE {ANY_CONSUMER}",
        [
            (
                str(uuid.uuid4()),
                kind,
                now_iso(),
                json.dumps({"dailyQuota": daily_quota, **body}),
                at,
            )
            for kind, at, body in events
        ],
    )
