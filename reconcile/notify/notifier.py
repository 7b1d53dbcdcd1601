"""The notifier: turns each pass's snapshot (and the watch's health) into queued notifications,
and sends what is due, with retries and backoff.

    notifier.record(snapshot)         # after a pass: what changed is queued (one transaction)
    notifier.health(key, kind, text)  # the watch's own trouble, once until `healthy(key)`
    await notifier.flush()            # send what is due now (the clock is injected)
    await notifier.run(stopping)      # the watch: flush whenever woken or a retry is due

The partner's app gets one signed event per message, its Link URL read from Codat when the event
is sent (so a retried or reminded event carries a fresh one). The team gets one digest per channel
per flush, scrubbed of URLs and of the ids of companies awaiting authorization.

The injected clock decides what is due (reminders, retries); a signature's timestamp is always
the moment of sending (the receiver checks it against its own clock).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from prometheus_client import CollectorRegistry, Counter

from reconcile.codat.errors import CodatError, QuotaExhausted
from reconcile.escape import text as escaped
from reconcile.notify.changes import PartnerEvent, changes
from reconcile.notify.config import Channel, NotifyConfig
from reconcile.notify.send import SendError, post_json, send_mail, slack_text
from reconcile.notify.states import Snapshot
from reconcile.notify.store import NotifyStore, Pending

Clock = Callable[[], datetime]
Log = Callable[[str], None]
LinkRead = Callable[[str, str], Awaitable[Any]]  # (company, connection) -> facts.links.LinkRead
FIRST_RETRY_SECONDS = 30.0
LONGEST_RETRY_SECONDS = 3600.0
MAX_ATTEMPTS = 10
QUOTA_WAIT = timedelta(hours=1)  # when Codat did not say when its daily quota resets
IDLE_SECONDS = 60.0  # the longest the watch's flusher sleeps
NEEDS_LINK = frozenset({"customer.authorization_needed", "customer.reauthorization_needed"})
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")  # a company id is one such word
_URL = re.compile(r"\b[a-z][a-z0-9+.-]*://\S+", re.IGNORECASE)


def _utc_now() -> datetime:
    return datetime.now(UTC)


class NotifyMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.messages = Counter(
            "reconcile_notifications",
            "Notifications by channel and outcome (sent; retry: an attempt failed, tried again "
            "later; failed: given up; superseded: the customer no longer waits).",
            ["channel", "outcome"],
            registry=registry or CollectorRegistry(),
        )

    def count(self, channel: str, outcome: str, n: int = 1) -> None:
        self.messages.labels(channel, outcome).inc(n)


class Notifier:
    def __init__(
        self,
        config: NotifyConfig,
        store: NotifyStore,
        http: httpx.AsyncClient,
        links: LinkRead,
        *,
        clock: Clock = _utc_now,
        metrics: NotifyMetrics | None = None,
        log: Log = lambda line: None,
    ) -> None:
        self.config = config
        self.store = store
        self.http = http
        self.links = links
        self.clock = clock
        self.metrics = metrics or NotifyMetrics()
        self.log = log
        self._wake = asyncio.Event()
        self._health: set[str] | None = None  # the health problems told (from the store)

    # ------------------------------------------------------------------ what to say

    def record(self, snapshot: Snapshot) -> None:
        now = self.clock().timestamp()
        found = changes(
            self.store.customers(),
            self.store.problems(),
            snapshot,
            now=now,
            reminder_after=self.config.reminder_after.total_seconds(),
        )
        with self.store.transaction():
            # A full pass knows every pending company; a pass over some adds to what it knew.
            self.store.withhold(snapshot.secrets, replace=snapshot.uids is None)
            withheld = self.store.withheld()
            for uid, (state, told_at) in found.states.items():
                self.store.set_customer(uid, state, told_at)
            for event in found.partner:
                self._enqueue(self.config.partner, event.type, {"partner": asdict(event)}, now)
            for problem in found.team:
                self.store.add_problem(problem.key, problem.kind, problem.uid, now)
                item = {"kind": problem.kind, "uid": problem.uid, "name": problem.name}
                item["text"] = _scrub(problem.text, withheld)
                self._enqueue(self.config.team, problem.kind, {"team": item}, now)
            for key in found.resolved:
                self.store.drop_problem(key)
        if found.partner or found.team:
            self._wake.set()

    def health(self, key: str, kind: str, text: str) -> None:
        """The watch's own trouble (a refused delivery, a failing resync, the quota): told once,
        until `healthy(key)`."""
        key = f"health:{key}"
        if self._health is None:  # a flood of refused deliveries must not each query SQLite
            self._health = {k for k in self.store.problems() if k.startswith("health:")}
        if key in self._health:
            return
        self._health.add(key)
        now = self.clock().timestamp()
        with self.store.transaction():
            self.store.add_problem(key, kind, None, now)
            item = {
                "kind": kind,
                "uid": None,
                "name": "",
                "text": _scrub(text, self.store.withheld()),
            }
            self._enqueue(self.config.team, kind, {"team": item}, now)
        self._wake.set()

    def healthy(self, key: str) -> None:
        key = f"health:{key}"
        if self._health is not None and key not in self._health:
            return
        self.store.drop_problem(key)
        if self._health is not None:
            self._health.discard(key)

    def _enqueue(
        self, channels: Iterable[Channel], event: str, body: dict[str, Any], now: float
    ) -> None:
        for channel in channels:
            if channel.wants(event):
                self.store.enqueue(channel.name, f"msg_{uuid.uuid4().hex}", body, now)

    # ------------------------------------------------------------------ sending

    async def flush(self) -> int:
        """Send what is due now; returns how many messages landed."""
        now = self.clock()
        due = self.store.due(now.timestamp())
        by_channel = {c.name: c for c in self.config.channels}
        landed = 0
        team: dict[str, list[Pending]] = {}
        for row in due:
            channel = by_channel.get(row.channel)
            if channel is None:  # the file no longer names it
                self.store.sent([row.id])
            elif channel.partner:
                landed += await self._partner(channel, row, now)
            else:
                team.setdefault(channel.name, []).append(row)
        for name, rows in team.items():
            landed += await self._team(by_channel[name], rows, now)
        return landed

    async def _partner(self, channel: Channel, row: Pending, now: datetime) -> int:
        event = PartnerEvent(**row.body["partner"])
        data: dict[str, Any] = {"uid": event.uid, "name": event.name, "platform": event.platform}
        try:
            if event.type in NEEDS_LINK:
                read = None
                if event.company_id and event.connection_id:
                    read = await self.links(event.company_id, event.connection_id)
                if read is None or read.link_url is None:
                    self.store.sent([row.id])
                    self.metrics.count(channel.name, "superseded")
                    return 0
                data |= {"link_url": read.link_url, "reminder": event.reminder}
            elif event.type == "customer.onboarded":
                data["company_id"] = event.company_id
            document = {"type": event.type, "timestamp": _utc_now().isoformat(), "data": data}
            await post_json(
                self.http, channel, document, message_id=row.message_id, when=_utc_now()
            )
        except QuotaExhausted as exc:  # not the message's fault: no attempt spent
            later = exc.resets_at or now + QUOTA_WAIT
            self.store.postpone([row.id], max(later, now).timestamp())
            self.log(f"notification to {channel.name} waits for Codat's daily quota to reset")
            return 0
        except CodatError as exc:  # its words may name the pending company: the type only
            self._failed(channel, [row], now, f"reading its Link URL: {type(exc).__name__}")
            return 0
        except SendError as exc:
            self._failed(channel, [row], now, str(exc))
            return 0
        self.store.sent([row.id])
        self.metrics.count(channel.name, "sent")
        return 1

    async def _team(self, channel: Channel, rows: list[Pending], now: datetime) -> int:
        items = [row.body["team"] for row in rows]
        lines = [_line(item) for item in items]
        try:
            if channel.kind == "slack":
                header = f"reconcile: {len(items)} to act on"
                document: dict[str, Any] = {"text": header + "\n" + slack_text(lines)}
                await post_json(
                    self.http, channel, document, message_id=rows[0].message_id, when=_utc_now()
                )
            elif channel.kind == "smtp":
                subject = f"reconcile: {len(items)} to act on"
                await send_mail(channel, subject, lines)
            else:
                document = {"type": "reconcile.notifications", "items": items}
                await post_json(
                    self.http, channel, document, message_id=rows[0].message_id, when=_utc_now()
                )
        except SendError as exc:
            self._failed(channel, rows, now, str(exc))
            return 0
        self.store.sent([row.id for row in rows])
        self.metrics.count(channel.name, "sent", len(rows))
        return 1

    def _failed(self, channel: Channel, rows: list[Pending], now: datetime, why: str) -> None:
        attempts = max(row.attempts for row in rows) + 1
        if attempts >= MAX_ATTEMPTS:
            self.store.sent([row.id for row in rows])
            self.metrics.count(channel.name, "failed", len(rows))
            self.log(f"notification to {channel.name} given up after {attempts} attempts: {why}")
            return
        delay = min(FIRST_RETRY_SECONDS * 2 ** (attempts - 1), LONGEST_RETRY_SECONDS)
        self.store.retry([row.id for row in rows], now.timestamp() + delay)
        self.metrics.count(channel.name, "retry", len(rows))
        self.log(f"notification to {channel.name} not sent ({why}); retrying in {delay:g} s")

    async def run(self, stopping: asyncio.Event) -> None:
        """Flush whenever woken (something was queued) or a retry is due, until `stopping`."""
        while not stopping.is_set():
            self._wake.clear()
            try:
                await self.flush()
            except Exception as exc:  # a bug must not end the watch: say it, go on
                self.log(f"notifications: unexpected {type(exc).__name__}: {escaped(str(exc))}")
            due = self.store.next_due()
            wait = IDLE_SECONDS
            if due is not None:
                wait = min(wait, max(0.05, due - self.clock().timestamp()))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait)


def _scrub(text: str, withheld: frozenset[str]) -> str:
    """No URL, and no id of a company awaiting authorization (either lets anyone link it)."""
    text = _URL.sub("[link withheld]", text)
    return _WORD.sub(lambda m: "[company withheld]" if m[0] in withheld else m[0], text)


def _line(item: dict[str, Any]) -> str:
    who = f"{escaped(item['uid'])} ({escaped(item['name'])}): " if item.get("uid") else ""
    return f"{escaped(item['kind'])}: {who}{escaped(item['text'])}"
