"""The notifier against loopback receivers (the partner's app, a chat webhook, an SMTP server),
with an injected clock: one notification per change of state, fresh Link URLs, digests for
people with no Link URL and no pending company's id, retries with backoff."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from prometheus_client import CollectorRegistry

from reconcile.notify.config import load_config
from reconcile.notify.notifier import FIRST_RETRY_SECONDS, Notifier, NotifyMetrics
from reconcile.notify.states import CustomerFact, Problem, Snapshot
from reconcile.notify.store import FILE_NAME, NotifyStore
from tests.notify.smtp_receiver import Mailbox, smtp_receiver
from tests.notify.support import (
    PARTNER_SECRET_ENV,
    Clock,
    FreshLinks,
    notify_file,
    partner_channel,
    partner_env,
    verified,
)
from tests.sandbox.webhook_receiver import Receiver, receiver


def waiting(uid: str, company: str = "", state: str = "awaiting_authorization") -> CustomerFact:
    return CustomerFact(
        uid,
        f"Customer {uid}",
        "Xero",
        company or f"company-{uid}",
        f"conn-{uid}",
        state=state,  # type: ignore[arg-type]
    )


def fleet(*facts: CustomerFact, problems: tuple[Problem, ...] = ()) -> Snapshot:
    secrets = frozenset(
        f.company_id
        for f in facts
        if f.state in ("awaiting_authorization", "needs_reauthorization") and f.company_id
    )
    return Snapshot(None, facts, problems, secrets)


class Rig:
    def __init__(
        self, tmp_path: Path, app: Receiver, chat: Receiver, mail: Mailbox | None = None
    ) -> None:
        self.env = partner_env()
        channels = [partner_channel(app.url), f"{{kind: slack, name: chat, url: '{chat.url}'}}"]
        if mail is not None:
            channels.append(
                f"{{kind: smtp, name: mail, host: 127.0.0.1, port: {mail.port}, "
                "from: reconcile@example.com, to: [oncall@example.com]}"
            )
        self.config = load_config(notify_file(tmp_path / "notify.yaml", *channels), self.env)
        self.path = tmp_path / "state" / FILE_NAME
        self.clock = Clock()
        self.links = FreshLinks()
        self.registry = CollectorRegistry()
        self.metrics = NotifyMetrics(self.registry)
        self.lines: list[str] = []
        self.app, self.chat, self.mail = app, chat, mail

    @property
    def secret(self) -> str:
        return self.env[PARTNER_SECRET_ENV]

    def run(self, *snapshots: Snapshot) -> int:
        """A watch's life: record each snapshot and flush; a new store each call (a restart)."""

        async def go() -> int:
            store = NotifyStore(self.path)
            async with httpx.AsyncClient() as http:
                notifier = Notifier(
                    self.config,
                    store,
                    http,
                    self.links,
                    clock=self.clock,
                    metrics=self.metrics,
                    log=self.lines.append,
                )
                landed = 0
                for snapshot in snapshots:
                    notifier.record(snapshot)
                    landed += await notifier.flush()
            store.close()
            return landed

        return asyncio.run(go())

    def partner(self) -> list[dict[str, object]]:
        return [verified(d, self.secret) for d in self.app.deliveries]

    def metric(self, channel: str, outcome: str) -> float:
        value = self.registry.get_sample_value(
            "reconcile_notifications_total", {"channel": channel, "outcome": outcome}
        )
        return value or 0.0


@contextmanager
def rig(tmp_path: Path, *, failures: int = 0, mail: bool = False) -> Iterator[Rig]:
    with receiver(failures) as app, receiver() as chat:
        if mail:
            with smtp_receiver() as box:
                yield Rig(tmp_path, app, chat, box)
        else:
            yield Rig(tmp_path, app, chat)


def test_one_signed_event_per_change_and_a_restart_repeats_none(tmp_path: Path) -> None:
    with rig(tmp_path) as r:
        three = fleet(waiting("a"), waiting("b"), waiting("c"))
        r.run(three, three)  # two passes, the same states
        events = r.partner()
        assert [e["type"] for e in events] == ["customer.authorization_needed"] * 3
        assert sorted(e["data"]["uid"] for e in events) == ["a", "b", "c"]  # type: ignore[index]
        for event in events:
            data = event["data"]
            assert data["link_url"].startswith("https://link.example/")  # type: ignore[index]
            assert data["reminder"] is False  # type: ignore[index]
        r.run(three)  # a restart: the state file remembers
        assert len(r.app.deliveries) == 3
        # Control: a change of state is told, once.
        r.run(fleet(waiting("a"), waiting("b"), waiting("c", state="onboarded")))
        assert [e["type"] for e in r.partner()[3:]] == ["customer.onboarded"]
        assert r.metric("app", "sent") == 4
        assert r.chat.deliveries == []  # nothing for a person to act on


def test_a_forged_signature_fails_the_apps_check(tmp_path: Path) -> None:
    """Control for `verified`: another secret does not verify."""
    import pytest
    from standardwebhooks.webhooks import WebhookVerificationError

    with rig(tmp_path) as r:
        r.run(fleet(waiting("a")))
        (delivery,) = r.app.deliveries
        with pytest.raises(WebhookVerificationError):
            verified(delivery, partner_env()[PARTNER_SECRET_ENV])


def test_a_reminder_after_the_age_carries_a_fresh_link(tmp_path: Path) -> None:
    with rig(tmp_path) as r:
        one = fleet(waiting("a"))
        r.run(one)
        r.clock.advance(days=2, hours=23)
        r.run(one)
        assert len(r.app.deliveries) == 1  # not yet
        r.clock.advance(hours=1)
        r.run(one)
        first, reminder = r.partner()
        assert reminder["data"]["reminder"] is True  # type: ignore[index]
        assert reminder["data"]["link_url"] != first["data"]["link_url"]  # type: ignore[index]
        assert len(r.links.reads) == 2  # each read when sent


def test_an_event_whose_customer_no_longer_waits_is_not_sent(tmp_path: Path) -> None:
    with rig(tmp_path) as r:
        r.links.status = "Linked"  # authorized between the pass and the send
        r.run(fleet(waiting("a")))
        assert r.app.deliveries == []
        assert r.metric("app", "superseded") == 1


def test_the_team_gets_one_digest_without_links_or_pending_ids(tmp_path: Path) -> None:
    with rig(tmp_path, mail=True) as r:
        pending = waiting("a", company="11111111-2222-3333-4444-555555555555")
        problems = (
            Problem(
                "dup:a",
                "duplicate",
                "a",
                "Customer a",
                f"companies {pending.company_id} and 9999 carry uid a; see https://link.example/x",
            ),
            Problem("deauthorized:b", "deauthorized", "b", "Customer b", "must re-authorize"),
        )
        r.run(fleet(pending, waiting("b", state="needs_reauthorization"), problems=problems))
        (chat,) = r.chat.deliveries  # one digest, two items
        text = chat.envelope["text"]
        assert "duplicate: a (Customer a)" in text and "deauthorized: b" in text
        assert r.mail is not None
        (message,) = r.mail.received()
        assert message["Subject"] == "reconcile: 2 to act on"
        mail = str(message.get_payload())
        for body in (text, mail):
            assert "://" not in body and str(pending.company_id) not in body
            assert "[company withheld]" in body and "9999" in body
        # Control: the id and the link are real, and the partner's app does get the link.
        links = [e["data"]["link_url"] for e in r.partner()]  # type: ignore[index]
        assert any(str(pending.company_id) in str(link) for link in links)
        r.run(fleet(pending, waiting("b", state="needs_reauthorization"), problems=problems))
        assert len(r.chat.deliveries) == 1  # a problem that lasts is not told again


def test_a_failed_send_is_retried_with_backoff_on_the_injected_clock(tmp_path: Path) -> None:
    with rig(tmp_path, failures=2) as r:
        r.run(fleet(waiting("a")))
        assert r.app.deliveries == [] and len(r.app.refused) == 1
        r.run(fleet(waiting("a")))  # the same moment: not due yet
        assert len(r.app.refused) == 1
        r.clock.advance(seconds=FIRST_RETRY_SECONDS)
        r.run(fleet(waiting("a")))
        assert len(r.app.refused) == 2  # failed again: now twice as long
        r.clock.advance(seconds=FIRST_RETRY_SECONDS)
        r.run(fleet(waiting("a")))
        assert r.app.deliveries == []
        r.clock.advance(seconds=FIRST_RETRY_SECONDS)
        r.run(fleet(waiting("a")))
        (event,) = r.partner()
        assert event["type"] == "customer.authorization_needed"
        ids = {d.headers["webhook-id"] for d in [*r.app.refused, *r.app.deliveries]}
        assert len(ids) == 1  # the same message each time: the app can deduplicate
        assert (r.metric("app", "retry"), r.metric("app", "sent")) == (2, 1)
        assert any("retrying in 60 s" in line for line in r.lines)


def test_the_watchs_health_is_told_once_until_it_recovers(tmp_path: Path) -> None:
    with rig(tmp_path) as r:

        async def go() -> None:
            store = NotifyStore(r.path)
            async with httpx.AsyncClient() as http:
                notifier = Notifier(r.config, store, http, r.links, clock=r.clock)
                for _ in range(3):  # every refused delivery says so: one message
                    notifier.health("delivery", "delivery_refused", "refused (401)")
                await notifier.flush()
                notifier.healthy("delivery")
                notifier.health("delivery", "delivery_refused", "refused again (401)")
                await notifier.flush()
            store.close()

        asyncio.run(go())
        texts = [d.envelope["text"] for d in r.chat.deliveries]
        assert len(texts) == 2
        assert "delivery_refused: refused (401)" in texts[0]
        assert "refused again" in texts[1]
        assert r.app.deliveries == []  # never the partner's business


def test_a_used_up_quota_postpones_the_link_read_until_the_reset(tmp_path: Path) -> None:
    from datetime import timedelta

    from reconcile.codat.errors import QuotaExhausted

    with rig(tmp_path) as r:
        fresh = r.links
        resets = r.clock.now + timedelta(hours=5)

        async def quota_gone(company_id: str, connection_id: str) -> object:
            r.lines.append("read")
            if r.clock.now < resets:
                path = f"/companies/{company_id}/connections/{connection_id}"
                raise QuotaExhausted("GET", path, None, limit=1000, resets_at=resets)
            return await fresh(company_id, connection_id)

        r.links = quota_gone  # type: ignore[assignment]
        r.run(fleet(waiting("a")))
        r.clock.advance(hours=4, minutes=59)
        r.run(fleet(waiting("a")))
        assert r.app.deliveries == [] and r.lines.count("read") == 1  # not due before the reset
        assert not any("company-a" in line for line in r.lines)  # logs never name it
        r.clock.advance(minutes=1)
        r.run(fleet(waiting("a")))
        (event,) = r.partner()
        assert event["type"] == "customer.authorization_needed"
        assert r.metric("app", "retry") == 0  # the quota is not the channel's failure
