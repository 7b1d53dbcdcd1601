"""The notifier inside `watch`: after each pass, on refused deliveries, on the quota.

converge = notifying_converge(client, notifier)   # the scheduler's pass, then `record`
on_hint = notifying_hints(notifier, scheduler.hint)
on_delivery = delivery_health(notifier)           # the receiver's outcome of each delivery
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING

import httpx
from prometheus_client import CollectorRegistry

from reconcile.codat.errors import CodatError, QuotaExhausted
from reconcile.notify.config import NotifyConfig
from reconcile.notify.notifier import Notifier, NotifyMetrics
from reconcile.notify.states import snapshot_of
from reconcile.notify.store import NotifyStore

if TYPE_CHECKING:
    from reconcile.codat import CodatClient
    from reconcile.converge import PassResult
    from reconcile.model import DesiredState
    from reconcile.watch.events import Hint
    from reconcile.watch.passes import Converge, PassReport, PassRunner

QUOTA = "quota"
PASS = "pass"
DELIVERY = "delivery"
QUOTA_TEXT = (
    "Codat's daily quota is used up: the watch writes nothing until it resets (the partner's app "
    "spends from the same quota)"
)


def notifying_converge(
    client: CodatClient, notifier: Notifier, run: PassRunner | None = None
) -> Converge:
    """The scheduler's pass (`run`: the watch's, `reconcile.watch.passes.pass_runner`), then
    `record`."""
    from reconcile.watch.passes import pass_runner, reporting

    return reporting(run or pass_runner(client), _Telling(notifier))


class _Telling:
    """What a pass tells the notifier: the quota or Codat failing it, else what it found."""

    def __init__(self, notifier: Notifier) -> None:
        self.notifier = notifier

    def failed(self, exc: Exception) -> None:
        if isinstance(exc, QuotaExhausted):
            self.notifier.health(QUOTA, "quota_paused", QUOTA_TEXT)
        elif isinstance(exc, CodatError):
            self.notifier.health(
                PASS,
                "pass_failed",
                f"a pass could not read Codat ({_what(exc)}); the watch retries, and /status "
                "says when the last full pass succeeded and why the last one failed",
            )

    def passed(self, result: PassResult, desired: DesiredState, report: PassReport) -> None:
        self.notifier.healthy(PASS)
        self.notifier.record(snapshot_of(result, desired))
        if report.quota_stopped:
            self.notifier.health(QUOTA, "quota_paused", QUOTA_TEXT)


def _what(exc: CodatError) -> str:
    """The error without its request path (which may name a company awaiting authorization)."""
    from reconcile.codat.errors import CodatHTTPError

    if isinstance(exc, CodatHTTPError):
        return f"Codat answered {exc.status}"
    return type(exc).__name__


def notifying_hints(notifier: Notifier, hint: Callable[[Hint], None]) -> Callable[[Hint], None]:
    def on_hint(event: Hint) -> None:
        if event.kind == "quota_reached":
            notifier.health(QUOTA, "quota_paused", QUOTA_TEXT)
        elif event.kind == "quota_reset":
            notifier.healthy(QUOTA)
        hint(event)

    return on_hint


def delivery_health(notifier: Notifier) -> Callable[[str, str], None]:
    """A refused delivery is told once (with its likely cause) until one is accepted again."""

    def on_delivery(outcome: str, detail: str) -> None:
        if outcome == "accepted":
            notifier.healthy(DELIVERY)
        elif outcome == "unauthorized":
            notifier.health(DELIVERY, "delivery_refused", likely_cause(detail))

    return on_delivery


def likely_cause(detail: str) -> str:
    lowered = detail.lower()
    if "unsigned" in lowered:
        cause = (
            "it carried no signature: something other than Codat posts to the webhook URL, or a "
            "proxy strips the webhook-* headers"
        )
    elif "timestamp" in lowered or "too old" in lowered or "too new" in lowered:
        cause = "its timestamp is more than five minutes off: check this machine's clock (NTP)"
    else:
        cause = (
            "its signature does not match: the watch's CODAT_WEBHOOK_SECRET is most likely not "
            "the signing secret of Codat's webhook consumer for this URL (copy it again)"
        )
    return (
        "a webhook delivery was refused (401), so the watch hears nothing until the next "
        f"resync; {cause}"
    )


class WatchNotifier:
    """The notifier of one watch: its HTTP client, its metrics on the watch's registry and its
    sending task (flushing whenever something is queued or a retry is due)."""

    def __init__(
        self,
        config: NotifyConfig,
        store: NotifyStore,
        client: CodatClient,
        registry: CollectorRegistry,
        log: Callable[[str], None],
        run: PassRunner | None = None,
    ) -> None:
        from reconcile.facts.links import LinkReader

        self.http = httpx.AsyncClient()
        self.notifier = Notifier(
            config, store, self.http, LinkReader(client), metrics=NotifyMetrics(registry), log=log
        )
        self.converge = notifying_converge(client, self.notifier, run)
        self.on_delivery = delivery_health(self.notifier)
        self._stopping = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self.notifier.run(self._stopping))

    def hints(self, hint: Callable[[Hint], None]) -> Callable[[Hint], None]:
        return notifying_hints(self.notifier, hint)

    async def stop(self) -> None:
        """What is still queued stays in the state file for the next start."""
        self._stopping.set()
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        await self.http.aclose()
        self.notifier.store.close()
