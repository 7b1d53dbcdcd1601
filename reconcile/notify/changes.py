"""What changed since the last pass, and so what to tell: pure, no I/O.

One notification per change of state, not per pass: the partner's app hears when a customer's
state changes (and, while it waits for the customer, again every `reminder_after`, so a reminder
carries a fresh Link URL); the team hears of a problem when it appears, not while it lasts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from reconcile.notify.states import WAITING_STATES, About, Problem, Snapshot
from reconcile.notify.store import Known

EVENT_OF_STATE = {
    "awaiting_authorization": "customer.authorization_needed",
    "needs_reauthorization": "customer.reauthorization_needed",
    "onboarded": "customer.onboarded",
    "offboarded": "customer.offboarded",
}


@dataclass(frozen=True, kw_only=True)
class PartnerEvent(About):
    """What the partner's app hears about a customer (kept flat in the notify store)."""

    type: str
    reminder: bool = False


@dataclass
class Changes:
    partner: list[PartnerEvent] = field(default_factory=list)
    team: list[Problem] = field(default_factory=list)  # problems that just appeared
    resolved: list[str] = field(default_factory=list)  # problem keys that are gone
    states: dict[str, tuple[str, float | None]] = field(default_factory=dict)


def changes(
    known: Mapping[str, Known],
    problems: Mapping[str, str | None],
    snapshot: Snapshot,
    *,
    now: float,
    reminder_after: float,
) -> Changes:
    out = Changes()
    seen: set[str] = set()
    for fact in snapshot.customers:
        seen.add(fact.uid)
        before = known.get(fact.uid)
        event = EVENT_OF_STATE.get(fact.state)
        changed = before is None or before.state != fact.state
        told_at = before.told_at if before is not None else None
        reminder = (
            not changed
            and fact.state in WAITING_STATES
            and (told_at is None or now - told_at >= reminder_after)
        )
        # A customer first seen offboarded was never the app's to hear about.
        if event and (changed or reminder) and not (before is None and fact.state == "offboarded"):
            out.partner.append(
                PartnerEvent(
                    fact.uid,
                    fact.name,
                    fact.platform,
                    fact.company_id,
                    fact.connection_id,
                    type=event,
                    reminder=reminder,
                )
            )
            told_at = now
        if changed or reminder:
            out.states[fact.uid] = (fact.state, told_at)
    if snapshot.uids is None:  # a full pass: a customer known before and now nowhere is gone
        for uid, before in known.items():
            if uid not in seen and before.state != "offboarded":
                out.partner.append(PartnerEvent(uid, uid, type="customer.offboarded"))
                out.states[uid] = ("offboarded", now)
    current = {p.key: p for p in snapshot.problems}
    out.team = [p for key, p in current.items() if key not in problems]
    out.resolved = [
        key
        for key, uid in problems.items()
        if key not in current and not key.startswith("health:") and snapshot.covers(uid)
    ]
    return out
