"""Which expense configs a plan reads (`reconcile.facts.configs.config_reads`, pure): every
configured Linked customer's for a full plan; for a pull request's plan, only the changed
customers' and those that became Linked (accounting Linked, `expenses: true`, no partner expense
connection), the rest counted as unread."""

from __future__ import annotations

from dataclasses import replace

from reconcile.facts.configs import ConfigReads, config_reads
from reconcile.model import Company, DesiredState
from tests.support.factories import CONFIG, OWNER, company, conn, customer, expense


def fleet() -> tuple[DesiredState, list[Company]]:
    """Five customers: set up (a, b), Linked without partner expense though it asks for one (c),
    Linked and not asking for expenses (d), awaiting authorization (e), and one without a
    config (f)."""
    wanted = dict(accounting="qhyg", expense_config=CONFIG)
    desired = DesiredState(
        OWNER,
        (
            customer("a", expenses=True, **wanted),
            customer("b", expenses=True, **wanted),
            customer("c", expenses=True, **wanted),
            customer("d", expenses=False, **wanted),
            customer("e", expenses=True, **wanted),
            customer("f", expenses=True, accounting="qhyg"),
        ),
    )
    companies = [
        company("a", conn("a1", "Linked"), expense("ae"), id="ca"),
        company("b", conn("b1", "Linked"), expense("be"), id="cb"),
        company("c", conn("c1", "Linked"), id="cc"),
        company("d", conn("d1", "Linked"), id="cd"),
        company("e", conn("e1", "PendingAuth"), id="ce"),
        company("f", conn("f1", "Linked"), expense("fe"), id="cf"),
    ]
    return desired, companies


def test_a_full_plan_reads_every_configured_linked_customer() -> None:
    desired, companies = fleet()
    reads = config_reads(desired, companies)
    assert reads.due == ("ca", "cb", "cc", "cd") and reads.unread == 0


def test_a_pull_requests_plan_reads_the_changed_and_the_newly_linked() -> None:
    desired, companies = fleet()
    reads = config_reads(desired, companies, changed=frozenset({"b", "e", "new"}))
    # b changed; c became Linked; a and d are left to the audit and converge; e is not Linked.
    assert reads.due == ("cb", "cc") and reads.unread == 2
    nothing = config_reads(desired, companies, changed=frozenset())
    assert nothing.due == ("cc",) and nothing.unread == 3


def test_a_platform_change_reads_nothing_until_the_new_platform_is_linked() -> None:
    desired, companies = fleet()
    moved = DesiredState(
        OWNER,
        tuple(
            customer("a", expenses=True, accounting="gbol", expense_config=CONFIG)
            if c.uid == "a"
            else c
            for c in desired.customers
        ),
    )
    reads = config_reads(moved, companies, changed=frozenset({"a"}))
    assert "ca" not in reads.due  # its Linked connection is QuickBooks Online, not Xero


def test_targets_limit_the_reads_to_the_plans_customers() -> None:
    desired, companies = fleet()
    assert config_reads(desired, companies, targets=frozenset({"d"})).due == ("cd",)


def test_a_file_without_expense_configs_reads_none() -> None:
    desired, companies = fleet()
    bare = DesiredState(OWNER, tuple(replace(c, expense_config=None) for c in desired.customers))
    for changed in (None, frozenset({"a", "c"})):
        assert config_reads(bare, companies, changed) == ConfigReads(())
