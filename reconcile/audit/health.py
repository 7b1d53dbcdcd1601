"""`audit --health`: each customer's health (`reconcile.health`) as findings. At risk, Degraded
by its data, and a config naming records that are gone are findings of their own; an Active
connection error is already a `connection_errors` finding, so it is not repeated here."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from reconcile.audit.model import Finding, FindingKind
from reconcile.health.model import Health, HealthState, Reason, ReasonKind

_DATA_REASONS = frozenset({ReasonKind.NEVER_FETCHED, ReasonKind.FAILING, ReasonKind.STALE})


def _facts(health: Health, reasons: Sequence[Reason]) -> dict[str, Any]:
    return {
        "state": health.state.value,
        "reasons": [r.kind.value for r in reasons],
        "who": list(dict.fromkeys(r.who for r in reasons)),
        "data_types": sorted({t for r in reasons for t in r.data_types}),
        "last_sync": health.last_sync.isoformat() if health.last_sync else None,
        "deauthorized_on": health.deauthorized_on.isoformat() if health.deauthorized_on else None,
        "refresh_queued": health.refresh_queued,
        "refresh_held": health.refresh_held,  # why a refresh otherwise due waits
    }


def _finding(health: Health, kind: FindingKind, reasons: Sequence[Reason]) -> Finding:
    return Finding(
        kind,
        health.uid,
        health.name,
        health.company_id,
        "; ".join(r.detail for r in reasons),
        since=health.last_sync.isoformat() if health.last_sync else None,
        facts=_facts(health, reasons),
    )


def health_findings(healths: Sequence[Health]) -> Iterator[Finding]:
    for health in healths:
        if health.state == HealthState.HEALTHY:
            continue
        at_risk = [r for r in health.reasons if r.kind == ReasonKind.NO_RECENT_SYNC]
        data = [r for r in health.reasons if r.kind in _DATA_REASONS]
        missing = [r for r in health.reasons if r.kind == ReasonKind.MISSING_REFERENCE]
        if at_risk:
            yield _finding(health, FindingKind.AT_RISK, at_risk + data)
        elif data:
            yield _finding(health, FindingKind.DEGRADED, data)
        if missing:
            yield _finding(health, FindingKind.MISSING_REFERENCES, missing)


def health_counts(healths: Sequence[Health]) -> dict[str, int]:
    return {state.value: sum(1 for h in healths if h.state == state) for state in HealthState}
