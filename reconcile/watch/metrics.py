"""Prometheus metrics of one watch, in a private registry (nothing global, nothing shared)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from reconcile.model.who import WHO
from reconcile.watch.passes import PassReport
from reconcile.watch.resync import ResyncReads

CONTENT_TYPE = CONTENT_TYPE_LATEST
DROP_REASONS = ("cap", "deadline")
DELIVERY_OUTCOMES = ("accepted", "duplicate", "unauthorized", "too_large", "malformed", "ignored")


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.passes = Counter(
            "reconcile_watch_passes",
            "Converge passes run, by scope (company, resync or full) and outcome.",
            ["scope", "outcome"],
            registry=r,
        )
        self.actions = Counter(
            "reconcile_watch_actions",
            "Actions sent by passes, by kind and outcome (applied or failed).",
            ["kind", "outcome"],
            registry=r,
        )
        self.waiting = Gauge(
            "reconcile_watch_waiting",
            "Things waiting, by who must act (customer, review, person).",
            ["reason"],
            registry=r,
        )
        self.customer_health = Gauge(
            "reconcile_watch_customer_health",
            "Linked customers by health state (healthy, degraded, at_risk), as the last health "
            "read saw them (daily, with policy.auto: [refresh_data]).",
            ["state"],
            registry=r,
        )
        self.deliveries = Counter(
            "reconcile_watch_webhook_deliveries",
            "Webhook deliveries received, by outcome.",
            ["outcome"],
            registry=r,
        )
        self.last_delivery = Gauge(
            "reconcile_watch_webhook_last_delivery_timestamp_seconds",
            "Unix time of the last webhook delivery accepted, and of the last refused (not "
            "signed with the watch's secret).",
            ["outcome"],
            registry=r,
        )
        self.last_resync = Gauge(
            "reconcile_watch_last_good_resync_timestamp_seconds",
            "Unix time when the last full pass finished without a failure.",
            registry=r,
        )
        self.quota_paused = Gauge(
            "reconcile_watch_quota_paused",
            "1 while writes are paused until Codat's daily quota resets.",
            registry=r,
        )
        self.desired_invalid = Gauge(
            "reconcile_watch_desired_invalid",
            "1 while the desired files on disk are invalid (the last good ones are used).",
            registry=r,
        )
        self.dropped = Counter(
            "reconcile_watch_connections_dropped",
            "Connections closed before their request was read, by reason (cap: to make room "
            "past --max-connections; deadline: slower than --read-deadline).",
            ["reason"],
            registry=r,
        )
        for reason in DROP_REASONS:
            self.dropped.labels(reason)
        for outcome in DELIVERY_OUTCOMES:
            self.deliveries.labels(outcome)
        for who in WHO:
            self.waiting.labels(who)

    def requests(self, reads: ResyncReads) -> None:
        """The request budget and the config sweep, read at each scrape."""
        budget, sweep, r = reads.budget, reads.sweep, self.registry
        for name, text, value in (
            (
                "reconcile_watch_requests_today",
                "Requests the watch sent to Codat this UTC day (Codat's quota resets at 00:00 "
                "UTC).",
                lambda: budget.spent_today,
            ),
            (
                "reconcile_watch_request_budget",
                "The watch's request budget for the day (--request-budget: by default 10% of "
                "Codat's client limit).",
                lambda: budget.budget,
            ),
            (
                "reconcile_watch_client_limit",
                "Codat's client limit a day: the greater of 1,000 and 100 per active connected "
                "company the listing shows.",
                lambda: budget.client_limit,
            ),
            (
                "reconcile_watch_config_sweep_due",
                "Customers whose expense config the sweep reads once per --config-sweep.",
                lambda: sweep.due,
            ),
            (
                "reconcile_watch_config_sweep_read",
                "Expense configs read in the sweep's current round.",
                lambda: sweep.read_this_round,
            ),
            (
                "reconcile_watch_config_sweep_slowed",
                "1 while the request budget slows the config sweep.",
                lambda: 1 if reads.slowed else 0,
            ),
        ):
            Gauge(name, text, registry=r).set_function(value)

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
