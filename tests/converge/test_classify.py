"""Who must act on each part of a plan: the pure classification converge, watch and audit share.

Plans come from the real planner on hand-built live states (no I/O), so the tests follow the
rules the planner actually applies.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from reconcile.converge import classify, policy_kind
from reconcile.model import (
    DEFAULT_AUTO,
    Company,
    Connection,
    ConnectionError_,
    Customer,
    DesiredState,
    ExpenseConfig,
    LiveState,
    Policy,
)
from reconcile.planner import make_plan
from reconcile.plans import Kind
from reconcile.render.converge import link_urls_of
from tests.support.factories import CONFIG, OWNER, bank_accounts, company, conn, customer

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


CREATED = "2026-11-28T12:00:00+00:00"


def expensed(uid: str = "cus-1", **fields: object) -> Customer:
    """A customer on QuickBooks Online with expenses on."""
    return customer(uid, accounting="qhyg", expenses=True, **fields)


def live(*companies: Company, configs: dict[str, ExpenseConfig | None] | None = None) -> LiveState:
    options = bank_accounts(("89", "Bank"))
    return LiveState(
        OWNER,
        companies,
        expense_configs=configs or {},
        mapping_options={c.id: options for c in companies},
        read_at=NOW.isoformat(),
    )


def desired(*customers: Customer, auto: frozenset[str] = DEFAULT_AUTO) -> DesiredState:
    return DesiredState(OWNER, customers, policy=Policy(auto=auto))


def sort_out(state: DesiredState, live_state: LiveState):  # type: ignore[no-untyped-def]
    plan = make_plan(state, live_state)
    return plan, classify(plan, state.policy, companies=live_state.companies, now=NOW)


def test_follow_ups_after_authorization_are_auto_and_a_rename_waits_for_review() -> None:
    state = desired(expensed("cus-1", name="Acme Ltd", expense_config=CONFIG))
    now_linked = company("cus-1", conn("a1", "Linked", created=CREATED))
    plan, out = sort_out(state, live(now_linked, configs={now_linked.id: None}))
    assert {a.kind for a in plan.actions} == {
        Kind.UPDATE_COMPANY,
        Kind.CREATE_PARTNER_EXPENSE,
        Kind.SET_EXPENSE_CONFIG,
    }
    assert [a.kind for a in out.auto.actions] == [
        Kind.CREATE_PARTNER_EXPENSE,
        Kind.SET_EXPENSE_CONFIG,
    ]
    assert [(w.who, w.kind, w.subject) for w in out.review] == [("review", "change", "company")]
    assert "add company_restore to policy.auto" in out.review[0].detail
    assert out.needs_attention
    assert out.auto.observed == plan.observed


def test_company_restore_in_policy_makes_the_rename_auto() -> None:
    state = desired(expensed("cus-1", name="Acme Ltd"), auto=DEFAULT_AUTO | {"company_restore"})
    _, out = sort_out(
        state,
        live(
            company(
                "cus-1",
                conn("a1", "Linked", created=CREATED),
                conn("e1", "Linked", key="expn", created=CREATED),
            )
        ),
    )
    assert [a.kind for a in out.auto.actions] == [Kind.UPDATE_COMPANY]
    assert not out.review and not out.needs_attention


def test_a_new_customer_waits_for_review_whole() -> None:
    _, out = sort_out(desired(expensed("cus-1")), live())
    assert out.auto.actions == ()
    assert [w.action.kind for w in out.review if w.action] == [
        Kind.CREATE_COMPANY,
        Kind.CREATE_CONNECTION,
    ]


def test_awaiting_authorization_waits_for_the_customer_with_its_age() -> None:
    pending = company("cus-1", conn("a1", "PendingAuth", created=CREATED))
    plan, out = sort_out(desired(expensed("cus-1")), live(pending))
    assert out.auto.actions == () and not out.review and not out.person
    assert not out.needs_attention  # only the customer must act: converge exits 0
    [wait] = out.customer
    assert (wait.kind, wait.uid, wait.age) == ("awaiting_authorization", "cus-1", timedelta(days=4))
    # The Link URL stays in the plan's note, never in the Waiting (it reaches shared outputs).
    assert not hasattr(wait, "link_url")
    assert link_urls_of(plan.notes)[wait.link_key] == "https://link.example/a1"


def test_reauthorization_age_counts_from_the_latest_error() -> None:
    error = ConnectionError_("401", "Unauthorized", "token revoked", "2026-12-01T12:00:00+00:00")
    revoked = company("cus-1", conn("a1", "Deauthorized", errors=(error,), created=CREATED))
    _, out = sort_out(desired(expensed("cus-1")), live(revoked))
    [wait] = out.customer
    assert wait.kind == "needs_reauthorization"
    assert wait.age == timedelta(days=1)
    # The 401 is also a connection error a person sees (not transient).
    assert [w.kind for w in out.person] == ["connection_error"]


def test_transient_connection_errors_are_not_for_a_person() -> None:
    busy = (
        ConnectionError_("429", "Too Many Requests", None, "2026-12-01T00:00:00+00:00"),
        ConnectionError_("503", "Service Unavailable", None, "2026-12-01T00:00:00+00:00"),
    )
    linked = company(
        "cus-1",
        conn("a1", "Linked", errors=busy, created=CREATED),
        conn("e1", "Linked", key="expn", created=CREATED),
    )
    _, out = sort_out(desired(expensed("cus-1")), live(linked))
    assert out.person == () and not out.needs_attention


def test_duplicates_and_refusals_wait_for_a_person() -> None:
    twins = (company("cus-1", id="x1"), company("cus-1", id="x2"))
    _, out = sort_out(desired(expensed("cus-1")), live(*twins))
    assert [w.kind for w in out.person] == ["duplicate"]
    assert out.needs_attention and out.auto.actions == ()


def test_a_platform_switch_is_never_auto_and_holds_what_follows() -> None:
    xero = Connection(
        "a0", "Accounting", "Xero", "Linked", "u", "2026-11-01T00:00:00+00:00", "gbol"
    )
    state = desired(
        expensed("cus-1"),
        auto=frozenset({"accounting_connection_recreate", "partner_expense_connection"}),
    )
    plan, out = sort_out(state, live(company("cus-1", xero)))
    assert Kind.UNLINK_CONNECTION in {a.kind for a in plan.actions}
    assert out.auto.actions == ()
    create = next(a for a in plan.actions if a.kind is Kind.CREATE_CONNECTION)
    assert policy_kind(create, OWNER, plan.changes[0]) is None


def test_recreating_a_deleted_accounting_connection_is_allowed_when_listed() -> None:
    gone = company("cus-1", conn("e1", "Linked", key="expn", created=CREATED))
    state = desired(expensed("cus-1"), auto=DEFAULT_AUTO | {"accounting_connection_recreate"})
    _, out = sort_out(state, live(gone))
    assert [a.kind for a in out.auto.actions] == [Kind.CREATE_CONNECTION]
    _, default = sort_out(desired(expensed("cus-1")), live(gone))
    assert default.auto.actions == () and len(default.review) == 1


def test_nothing_is_auto_in_a_plan_refused_as_a_whole() -> None:
    linked = company("cus-1", conn("a1", "Linked", created=CREATED))
    plan = make_plan(desired(expensed("cus-1")), live(linked))
    unsafe = plan.__class__(owner=OWNER, changes=plan.changes, unsafe="too much")
    out = classify(unsafe, Policy(), companies=(linked,), now=NOW)
    assert out.auto.actions == ()
    assert [w.kind for w in out.person] == ["unsafe_plan"]


def test_an_allowed_action_behind_one_waiting_for_review_waits_too() -> None:
    pending = company("cus-1", conn("a1", "PendingAuth", created=CREATED))
    no_accounting = Customer("cus-1", "Acme", accounting=None, expenses=True)
    plan, out = sort_out(desired(no_accounting), live(pending))
    assert [a.kind for a in plan.actions] == [
        Kind.DELETE_CONNECTION,
        Kind.CREATE_PARTNER_EXPENSE,
    ]
    assert out.auto.actions == ()
    held = out.review[1]
    assert held.action is not None and held.action.kind is Kind.CREATE_PARTNER_EXPENSE
    assert "follows delete_connection" in held.detail
