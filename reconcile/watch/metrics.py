"""Prometheus metrics of one watch, in a private registry (nothing global, nothing shared)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from reconcile.model.who import WHO
from reconcile.watch.passes import PassReport
from reconcile.watch.resync import ResyncReads

CONTENT_TYPE = CONTENT_TYPE_LATEST
M = TypeVar("M", Counter, Gauge)  # the kinds of metric a watch keeps
DROP_REASONS = ("cap", "deadline")
DELIVERY_OUTCOMES = ("accepted", "duplicate", "unauthorized", "too_large", "malformed", "ignored")


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        counter, gauge = self._metric(Counter), self._metric(Gauge)
        self.passes = counter(
            "passes",
            "Converge passes run, by scope (company, resync or full) and outcome.",
            "scope",
            "outcome",
        )
        self.actions = counter(
            "actions",
            "Actions sent by passes, by kind and outcome (applied or failed).",
            "kind",
            "outcome",
        )
        self.waiting = gauge(
            "waiting", "Things waiting, by who must act (customer, review, person).", "reason"
        )
        self.customer_health = gauge(
            "customer_health",
            "Linked customers by health state (healthy, degraded, at_risk), as the last health "
            "read saw them (daily, with policy.auto: [refresh_data]).",
            "state",
        )
        self.deliveries = counter(
            "webhook_deliveries", "Webhook deliveries received, by outcome.", "outcome"
        )
        self.last_delivery = gauge(
            "webhook_last_delivery_timestamp_seconds",
            "Unix time of the last webhook delivery accepted, and of the last refused (not "
            "signed with the watch's secret).",
            "outcome",
        )
        self.last_resync = gauge(
            "last_good_resync_timestamp_seconds",
            "Unix time when the last full pass finished without a failure.",
        )
        self.quota_paused = gauge(
            "quota_paused", "1 while writes are paused until Codat's daily quota resets."
        )
        self.desired_invalid = gauge(
            "desired_invalid",
            "1 while the desired files on disk are invalid (the last good ones are used).",
        )
        self.dropped = counter(
            "connections_dropped",
            "Connections closed before their request was read, by reason (cap: to make room "
            "past --max-connections; deadline: slower than --read-deadline).",
            "reason",
        )
        for reason in DROP_REASONS:
            self.dropped.labels(reason)
        for outcome in DELIVERY_OUTCOMES:
            self.deliveries.labels(outcome)
        for who in WHO:
            self.waiting.labels(who)

    def requests(self, reads: ResyncReads) -> None:
        """The request budget and the config sweep, read at each scrape."""
        budget, sweep, gauge = reads.budget, reads.sweep, self._metric(Gauge)
        for name, text, value in (
            (
                "requests_today",
                "Requests the watch sent to Codat this UTC day (Codat's quota resets at 00:00 "
                "UTC).",
                lambda: budget.spent_today,
            ),
            (
                "request_budget",
                "The watch's request budget for the day (--request-budget: by default 10% of "
                "Codat's client limit).",
                lambda: budget.budget,
            ),
            (
                "client_limit",
                "Codat's client limit a day: the greater of 1,000 and 100 per active connected "
                "company the listing shows.",
                lambda: budget.client_limit,
            ),
            (
                "config_sweep_due",
                "Customers whose expense config the sweep reads once per --config-sweep.",
                lambda: sweep.due,
            ),
            (
                "config_sweep_read",
                "Expense configs read in the sweep's current round.",
                lambda: sweep.read_this_round,
            ),
            (
                "config_sweep_slowed",
                "1 while the request budget slows the config sweep.",
                lambda: 1 if reads.slowed else 0,
            ),
        ):
            gauge(name, text).set_function(value)

    def _metric(self, kind: type[M]) -> Callable[..., M]:
        """Makes metrics of `kind` in this watch's registry, named `reconcile_watch_<name>`."""

        def make(name: str, documentation: str, *labels: str) -> M:
            return kind(f"reconcile_watch_{name}", documentation, labels, registry=self.registry)

        return make

    def connection_dropped(self, reason: str) -> None:
        self.dropped.labels(reason).inc()

    def delivery(self, outcome: str) -> None:
        self.deliveries.labels(outcome).inc()

    def record_pass(
        self, report: PassReport, outcome: str, waiting: dict[str, int], scope: str | None = None
    ) -> None:
        """`scope`: company, resync or full (by default, full or company from the report)."""
        if scope is None:
            scope = "full" if report.company_ids is None else "company"
        self.passes.labels(scope, outcome).inc()
        for kind, count in report.applied.items():
            self.actions.labels(kind, "applied").inc(count)
        for kind, count in report.failed.items():
            self.actions.labels(kind, "failed").inc(count)
        for who in WHO:
            self.waiting.labels(who).set(waiting.get(who, 0))
        for state, count in (report.health or {}).items():
            self.customer_health.labels(state).set(count)

    def render(self) -> bytes:
        return generate_latest(self.registry)
