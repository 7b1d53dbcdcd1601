"""Customers' health as the watch shows it (issue 26): the last health read of a full pass
(daily, with `policy.auto: [refresh_data]`: `reconcile.watch.passes`), turned into the status
page's rows and `/status`'s `customer_health`. Counts by state; per customer Degraded or At risk
the reasons, who must act (`reconcile.model.who`), and the day Codat will deauthorize it. Never
a company id or a Link URL (`reconcile.render.bearer`): a customer's uid identifies it."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from reconcile.health.model import Health, HealthState
from reconcile.render.bearer import hide
from reconcile.render.status_view import CustomerHealth, HealthRow

# Why the page has no health yet, until a full pass reads it.
NOT_READ = (
    "Not read yet: the watch reads customer health (Codat's data status of each Linked customer)"
    " on its first full pass and then once a day, when the file's policy.auto lists refresh_data."
)
_URGENT = {HealthState.AT_RISK.value: 0, HealthState.DEGRADED.value: 1}


def customer_health(healths: Iterable[Health], read_at: datetime) -> CustomerHealth:
    found = list(healths)
    counts = tuple((s.value, sum(1 for h in found if h.state == s)) for s in HealthState)
    rows = [
        HealthRow(
            uid=h.uid,
            name=h.name,
            state=h.state.value,
            reasons=tuple((r.detail, r.who) for r in h.reasons),
            deauthorized_on=h.deauthorized_on if h.state == HealthState.AT_RISK else None,
            last_sync=h.last_sync,
        )
        for h in found
        if h.state != HealthState.HEALTHY
    ]
    rows.sort(key=lambda r: (_URGENT[r.state], r.uid))
    return CustomerHealth(read_at=read_at, counts=counts, rows=tuple(rows))


def health_document(health: CustomerHealth | None) -> dict[str, Any]:
    """`/status`'s `customer_health`: null counts until a full pass reads health."""
    if health is None:
        return {"read_at": None, "counts": None, "customers": [], "note": NOT_READ}
    return {
        "read_at": health.read_at.isoformat(timespec="seconds"),
        "counts": dict(health.counts),
        "customers": [
            {
                "uid": row.uid,
                "name": hide(row.name),
                "state": row.state,
                "reasons": [{"detail": hide(detail), "who": who} for detail, who in row.reasons],
                "who": list(row.who),
                "deauthorized_on": row.deauthorized_on.isoformat() if row.deauthorized_on else None,
                "last_sync": row.last_sync.isoformat(timespec="seconds") if row.last_sync else None,
            }
            for row in health.rows
        ],
        "note": None,
    }
