"""What to tell, from the last known states and a pass's snapshot (pure)."""

from __future__ import annotations

from reconcile.notify.changes import changes
from reconcile.notify.states import CustomerFact, Problem, Snapshot
from reconcile.notify.store import Known

DAY = 86_400.0


def fact(uid: str, state: str) -> CustomerFact:
    return CustomerFact(uid, uid.upper(), "Xero", f"c-{uid}", f"k-{uid}", state=state)  # type: ignore[arg-type]


def told(known: dict[str, Known], snapshot: Snapshot, now: float = 10 * DAY) -> list[str]:
    found = changes(known, {}, snapshot, now=now, reminder_after=3 * DAY)
    return [f"{e.type} {e.uid}{' (reminder)' if e.reminder else ''}" for e in found.partner]


def test_each_state_is_told_when_it_changes() -> None:
    snapshot = Snapshot(None, (fact("a", "awaiting_authorization"), fact("b", "onboarded")))
    assert told({}, snapshot) == ["customer.authorization_needed a", "customer.onboarded b"]
    same = {"a": Known("awaiting_authorization", 9 * DAY), "b": Known("onboarded", 9 * DAY)}
    assert told(same, snapshot) == []
    assert told(same, snapshot, now=12 * DAY) == ["customer.authorization_needed a (reminder)"]


def test_in_progress_and_leaving_tell_the_app_nothing() -> None:
    snapshot = Snapshot(None, (fact("a", "in_progress"), fact("b", "leaving")))
    found = changes({}, {}, snapshot, now=0, reminder_after=DAY)
    assert found.partner == [] and set(found.states) == {"a", "b"}


def test_offboarding_is_told_to_a_customer_the_app_knew() -> None:
    known = {"a": Known("onboarded", 0), "gone": Known("onboarded", 0)}
    snapshot = Snapshot(None, (fact("a", "offboarded"), fact("never-known", "offboarded")))
    assert told(known, snapshot) == ["customer.offboarded a", "customer.offboarded gone"]
    # A pass over some companies says nothing of the customers it did not read.
    assert told(known, Snapshot(frozenset({"a"}), (fact("a", "offboarded"),))) == [
        "customer.offboarded a"
    ]


def test_a_problem_is_told_when_it_appears_and_forgotten_when_it_goes() -> None:
    refused = Problem("refused:a:x", "refused", "a", "A", "no")
    other = Problem("refused:b:x", "refused", "b", "B", "no")
    found = changes(
        {}, {"refused:b:x": "b"}, Snapshot(None, (), (refused, other)), now=0, reminder_after=DAY
    )
    assert found.team == [refused] and found.resolved == []
    found = changes(
        {},
        {"refused:a:x": "a", "refused:b:x": "b", "health:pass": None},
        Snapshot(frozenset({"a"})),
        now=0,
        reminder_after=DAY,
    )
    assert found.resolved == ["refused:a:x"]  # b was not read; the watch's health is not a pass's
