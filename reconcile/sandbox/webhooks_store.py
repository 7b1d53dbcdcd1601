"""The webhook tables of the sandbox's SQLite file: consumers (Codat's `WebhookConsumer`), the
outbox the triggers of `webhooks_schema` fill, and one delivery row per event and consumer.

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
from typing import Any, Final
from urllib.parse import urlsplit

from reconcile.loopback import is_loopback
from reconcile.sandbox.store_db import StoreDB
from reconcile.sandbox.store_sql import NotFound, Wire, now_iso
from reconcile.sandbox.webhooks_schema import (
    DELIVERED,
    DROPPED,
    FAILED,
    PENDING,
    SENDING,
)

SECRET_PREFIX: Final = "whsec_"
SECRET_BYTES: Final = 24
_CONSUMER_COLUMNS: Final = "id, url, event_types, company_tags, disabled, secret"
_CLAIM_COLUMNS: Final = ", ".join("c." + c for c in _CONSUMER_COLUMNS.split(", "))
_EVENT_COLUMNS: Final = "o.seq, o.id, o.event_type, o.generated, o.company, o.connection, o.errors"


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

    def wants(self, event_type: str, company_tags: dict[str, Any]) -> bool:
        """No event types means every event; company tags match when any `key:value` does."""
        if self.disabled or (self.event_types and event_type not in self.event_types):
            return False
        if not self.company_tags:
            return True
        present = {f"{key}:{value}" for key, value in company_tags.items()}
        return any(tag in present for tag in self.company_tags)


@dataclass(frozen=True)
class Event:
    """One row of the outbox: snapshots taken by a trigger (see `webhooks_schema`)."""

    seq: int
    id: str
    event_type: str
    generated: str
    company: list[Any]
    connection: list[Any] | None
    errors: list[list[Any]]

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> Event:
        seq, event_id, event_type, generated, company, connection, errors = row
        return cls(
            seq=int(seq),
            id=str(event_id),
            event_type=str(event_type),
            generated=str(generated),
            company=list(json.loads(company)),
            connection=None if connection is None else list(json.loads(connection)),
            errors=[] if errors is None else list(json.loads(errors)),
        )

    @property
    def company_tags(self) -> dict[str, Any]:
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
                "SELECT EXISTS (SELECT 1 FROM webhook_outbox WHERE fanned_out = 0),"
                " EXISTS (SELECT 1 FROM webhook_deliveries WHERE state IN (?, ?) AND due <= ?)",
                (PENDING, SENDING, now),
            ).fetchone()
            return bool(row[0] or row[1])

    def fan_out(self, now: float) -> int:
        """One pending delivery per new event and consumer that wants it; how many."""
        made = 0
        with self.db.transaction() as conn:
            events = [
                Event.from_row(row)
                for row in conn.execute(
                    f"SELECT {_EVENT_COLUMNS} FROM webhook_outbox o WHERE o.fanned_out = 0"
                    " ORDER BY o.seq"
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
            conn.execute(
                "UPDATE webhook_outbox SET fanned_out = 1 WHERE seq <= ? AND fanned_out = 0",
                (events[-1].seq,),
            )
        return made

    def claim_due(self, now: float, lease_seconds: float, limit: int) -> list[Claimed]:
        """Take the lease on up to `limit` due deliveries, oldest first."""
        with self.db.transaction() as conn:
            rows = conn.execute(
                f"SELECT d.seq, d.attempts, {_CLAIM_COLUMNS},"
                f" {_EVENT_COLUMNS} FROM webhook_deliveries d"
                " JOIN webhook_consumers c ON c.id = d.consumer_id"
                " JOIN webhook_outbox o ON o.seq = d.event_seq"
                " WHERE d.state IN (?, ?) AND d.due <= ? ORDER BY d.due, d.seq LIMIT ?",
                (PENDING, SENDING, now, limit),
            ).fetchall()
            conn.executemany(
                "UPDATE webhook_deliveries SET state = ?, due = ? WHERE seq = ?",
                [(SENDING, now + lease_seconds, row[0]) for row in rows],
            )
        return [
            Claimed(
                seq=int(row[0]),
                attempts=int(row[1]),
                consumer=_consumer(row[2:8]),
                event=Event.from_row(row[8:]),
            )
            for row in rows
        ]

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

    def delivery_states(self) -> list[tuple[str, str, str, int]]:
        """(event type, consumer id, state, attempts) of every delivery, oldest first."""
        with self.db._read() as conn:
            rows = conn.execute(
                "SELECT o.event_type, d.consumer_id, d.state, d.attempts FROM webhook_deliveries d"
                " JOIN webhook_outbox o ON o.seq = d.event_seq ORDER BY d.seq"
            ).fetchall()
        return [(str(a), str(b), str(c), int(n)) for a, b, c, n in rows]
