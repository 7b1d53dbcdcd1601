"""What the watch says about the deliveries it hears: the last accepted and the last refused
(for /status and /metrics), and a refused delivery in the log with its likely cause, at most
one line per interval (a flood of forged or misconfigured deliveries is one line a minute with a
count, not a line each)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from reconcile.watch.metrics import Metrics
from reconcile.watch.status import WatchStatus
from reconcile.watch.throttle import Throttle

LOG_INTERVAL = 60.0
CAUSES = (
    (
        "no matching signature",
        "a wrong secret: CODAT_WEBHOOK_SECRET (or _FILE) is not the signing secret of the Codat "
        "webhook consumer that sends here (rotated, or another environment's); copy it again",
    ),
    (
        "timestamp too",
        "a clock: this machine's clock and Codat's differ by more than 5 minutes, or the "
        "delivery was replayed late; check NTP",
    ),
    (
        "unsigned",
        "not Codat: the request has no webhook signature headers (something else posts to this "
        "URL, or a proxy strips the webhook-* headers)",
    ),
    (
        "missing required headers",
        "not Codat: the request has no webhook signature headers",
    ),
    (
        "malformed",
        "malformed signature headers: a proxy may rewrite them, or the sender is not Codat",
    ),
)


def likely_cause(reason: str) -> str:
    folded = reason.casefold()
    for words, cause in CAUSES:
        if words in folded:
            return cause
    return "a delivery not signed with this watch's secret"


@dataclass
class Deliveries:
    """What the receiver saw, on the status page and /metrics; a refused delivery logged at
    most once per `throttle`'s interval."""

    status: WatchStatus
    metrics: Metrics
    log: Callable[[str], None]
    throttle: Throttle = field(default_factory=lambda: Throttle(LOG_INTERVAL))

    def accepted(self) -> None:
        self.status.last_accepted_at = datetime.now(UTC)
        self.metrics.last_delivery.labels("accepted").set(time.time())

    def refused(self, reason: str) -> None:
        """A delivery not signed with our secret (answered 401)."""
        self.status.last_refused_at = datetime.now(UTC)
        self.status.last_refused_reason = reason
        self.metrics.last_delivery.labels("refused").set(time.time())
        count = self.throttle.count()
        if count is None:
            return
        what = (
            "a webhook delivery was refused"
            if count == 1
            else f"{count} webhook deliveries were refused since the last such line"
        )
        self.log(
            f"{what} ({reason}); likely cause: {likely_cause(reason)}. Nothing changes until "
            f"deliveries are signed with the right secret; the resync still runs."
        )
