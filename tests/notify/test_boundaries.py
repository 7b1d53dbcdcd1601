"""The notifications' boundaries (docs/design.md §2), checked like tests/test_architecture.py:
deciding what to tell is pure; the notifier never touches the command line, rendering or the
sandbox."""

from __future__ import annotations

from tests.test_architecture import PACKAGE, modules, offenders

PURE = ("reconcile.notify.states", "reconcile.notify.store", "reconcile.model", "reconcile.plans")


def test_deciding_what_to_tell_is_pure() -> None:
    pure = modules("notify", "states") + modules("notify", "changes")
    allowed = (*PURE, "reconcile.notify.changes", "reconcile.converge")
    assert offenders(pure, allowed, ("httpx", "click", "asyncio", "sqlite3", "smtplib")) == []


def test_the_notifier_stays_out_of_the_cli_and_the_sandbox() -> None:
    found = modules("notify") + modules("facts")
    assert len(found) >= 8
    allowed = ("reconcile.notify", "reconcile.facts", "reconcile.codat", "reconcile.model")
    allowed += ("reconcile.plans", "reconcile.converge", "reconcile.escape", "reconcile.loopback")
    allowed += ("reconcile.durations", "reconcile.planner", "reconcile.executor", "reconcile.watch")
    allowed += ("reconcile.health", "reconcile.paths")  # facts/health.py, facts/settings.py
    allowed += ("reconcile.export",)  # facts/export.py: export's read (facts/ holds every read)
    assert offenders(found, allowed, ("click",)) == []


def test_a_control_offender_is_found() -> None:
    bad = PACKAGE / "notify" / "states.py"
    assert offenders([bad], ("reconcile.nothing",), ()) != []
