"""Property: whatever the file says and whatever Codat holds, apply then plan shows no changes.

Random desired states are applied in a row (the second one a random edit of the first:
renames, retags, platform moves, customers leaving, expenses toggled, protection) to the sandbox
in process, with drift in between: uid tags edited and owner tags removed in the portal,
customers authorizing and deauthorizing. After each apply: no company is duplicated, no
connection stopped being active unless the plan named it, a fresh plan has no changes (refusals
allowed: they are the plan asking a person), and Codat holds what the file says for every
customer not refused.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections import Counter
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from reconcile.codat import ClientSettings, CodatClient
from reconcile.executor import execute
from reconcile.facts.fleet import read_live
from reconcile.model import OWNER_TAG, PLATFORMS, UID_TAG, Customer, DesiredState, LiveState
from reconcile.planner import PlanOptions, make_plan
from reconcile.plans import Kind
from reconcile.plans.file import structure_problems
from reconcile.render.plan_json import plan_to_dict, render_plan_json
from reconcile.sandbox.app import create_app
from reconcile.sandbox.options import SandboxOptions
from reconcile.sandbox.store import Store
from tests.conftest import examples
from tests.support.virtual_time import MovingClock

OWNER = "prop"
UIDS = [f"u{i}" for i in range(6)]
NAMES = st.sampled_from(["Acme", "Globex Ltd", "Initech", "Hooli & Co", "Umbrella, Inc."])
TAGS = st.dictionaries(st.sampled_from(["region", "plan", "team"]), st.sampled_from(["a", "b"]))
PLATFORM = st.none() | st.sampled_from([p.key for p in PLATFORMS])
OPTIONS = PlanOptions(max_destroy=1000, allow_empty=True)


@st.composite
def customers(draw: st.DrawFn) -> tuple[Customer, ...]:
    uids = draw(st.lists(st.sampled_from(UIDS), unique=True, max_size=len(UIDS)))
    return tuple(
        Customer(
            uid=uid,
            name=draw(NAMES),
            description=draw(st.none() | st.just("note")),
            tags=draw(TAGS),
            accounting=draw(PLATFORM),
            expenses=draw(st.booleans()),
            **draw(st.sampled_from([{}, {}, {"protect": True}, {"unprotect": True}])),
        )
        for uid in uids
    )


# A drift step, between two applies: what people and customers do to Codat behind the tool.
Drift = tuple[str, int, int]  # (kind, which company, which fresh uid)
DRIFT = st.tuples(
    st.sampled_from(
        [
            "retag_uid",  # to a uid no company carries
            "retag_other",  # to another company's uid (a copied or mistyped tag)
            "retag_case",  # the same uid in another case
            "drop_owner",
            "authorize",
            "deauthorize",
            "authorize_all",
            "unknown_platform",  # the customer moves to Sage 50, which the file cannot name
        ]
    ),
    st.integers(0, 5),
    st.integers(0, 3),
)
# A platform outside Sync for Expenses (the sandbox accepts it, as Codat does).
UNKNOWN_PLATFORM = "hbql"


# Codat dates a replay by its first answer and the executor tells a stale replay from a fresh
# write by comparing that date with the plan's read (the Date header has whole seconds). People
# edit tags in the portal minutes after a create, not milliseconds: let that much time pass (on
# the test's clock: the sandbox's store and its Date header, which the client reads, on it).
REPLAY_WINDOW_SECONDS = 2.1


def drift(db: Path, live: LiveState, steps: list[Drift], clock: MovingClock) -> None:
    edited = False
    try:
        edited = _drift(db, live, steps, clock)
    finally:
        if edited:
            clock.shift(REPLAY_WINDOW_SECONDS)


def _drift(db: Path, live: LiveState, steps: list[Drift], clock: MovingClock) -> bool:
    edited = False
    store = Store(db, clock=clock)
    try:
        companies = sorted(live.companies, key=lambda c: c.id)
        moved: set[str] = set()
        for kind, which, fresh in steps:
            if not companies:
                return edited
            company = companies[which % len(companies)]
            tags = dict(company.tags)
            if kind == "retag_uid" and UID_TAG in tags:
                used = {c.uid for c in live.companies}
                if f"x{fresh}" not in used:  # an edit to a uid no company carries
                    store.update_company(company.id, tags={**tags, UID_TAG: f"x{fresh}"})
                    edited = True
            elif kind == "retag_other" and UID_TAG in tags:
                other = companies[(which + 1 + fresh) % len(companies)]
                if other.uid and other.uid != company.uid:
                    store.update_company(company.id, tags={**tags, UID_TAG: other.uid})
                    edited = True
            elif kind == "retag_case" and UID_TAG in tags:
                store.update_company(company.id, tags={**tags, UID_TAG: tags[UID_TAG].upper()})
                edited = True
            elif kind == "unknown_platform" and company.id not in moved:
                moved.add(company.id)  # `company` is the snapshot: move each one once
                for conn in company.connections:
                    if conn.is_accounting and conn.active:  # the customer leaves that platform
                        store.set_connection_status(company.id, conn.id, "Unlinked")
                sage = store.create_connection(company.id, UNKNOWN_PLATFORM, "http://127.0.0.1")
                store.set_connection_status(company.id, sage["id"], "Linked")
            elif kind == "drop_owner":
                store.update_company(
                    company.id, tags={k: v for k, v in tags.items() if k != OWNER_TAG}
                )
                edited = True
            else:
                for conn in company.connections:
                    if not conn.is_accounting:
                        continue
                    if kind.startswith("authorize") and conn.status == "PendingAuth":
                        store.set_connection_status(company.id, conn.id, "Linked")
                    elif kind == "deauthorize" and conn.status == "Linked":
                        store.set_connection_status(company.id, conn.id, "Deauthorized")
    finally:
        store.close()
    return edited


def assert_matches(state: DesiredState, live: LiveState, refused: set[str]) -> None:
    """Codat holds what the file says, for every customer the plan did not refuse."""
    by_uid = {c.uid: c for c in live.companies if c.owner == OWNER}
    for customer in state.customers:
        if customer.uid in refused:
            continue
        company = by_uid[customer.uid]
        assert company.name == customer.name
        assert company.user_tags == dict(customer.tags)
        if customer.protect:
            assert company.protected
        if customer.unprotect:
            assert not company.protected
        # Connections the file cannot name (Sage 50) are left as they are: not checked here.
        active = [c for c in company.connections if c.is_accounting and c.active and c.nameable]
        if customer.accounting is None:
            assert active == [] or company.protected
        else:
            # The wanted platform is active, or only Deauthorized (the customer revoked it: the
            # rules list it as needing re-authorization and create nothing), or protection keeps
            # another platform's connection.
            deauthorized = [
                c
                for c in company.connections
                if c.is_accounting
                and c.status == "Deauthorized"
                and c.platform
                and c.platform.key == customer.accounting
            ]
            assert (
                [c.platform.key for c in active if c.platform] == [customer.accounting]
                or (active == [] and deauthorized != [])
                or company.protected
            )
        expense = [c for c in company.connections if c.is_partner_expense and c.status == "Linked"]
        if not customer.expenses and not company.protected:
            assert expense == []


def uid_counts(live: LiveState) -> Counter[str]:
    return Counter(c.uid for c in live.companies if c.uid)


async def read_all(client: CodatClient) -> LiveState:
    return LiveState(OWNER, tuple(await client.list_companies()))


async def apply_once(
    client: CodatClient, state: DesiredState, held_uids: frozenset[str] = frozenset()
) -> set[str]:
    """Apply, then check: nothing duplicated, nothing unlinked the plan did not name, nothing
    the file cannot name or that left the file while Linked named at all, and no company
    created for `held_uids` (customers whose company exists, under an edited uid tag).

    Returns the uids whose actions failed asking a person to act (a create that Codat answered
    with an earlier company of this customer whose tags were edited since); any other failure
    fails the test."""
    before = await read_all(client)
    plan = make_plan(state, await read_live(client, state), OPTIONS)
    assert structure_problems(plan_to_dict(plan)) == []  # schemas/plan.schema.json
    result = await execute(plan, client)
    failed = result.of("failed")
    assert all("restore its tags" in o.detail for o in failed), [o.detail for o in failed]
    after = await read_all(client)
    # No duplicate: no uid is carried by more companies than before the apply (or than one).
    counts_before = uid_counts(before)
    for uid, count in uid_counts(after).items():
        assert count <= max(1, counts_before[uid]), (uid, render_plan_json(plan))
    # No unlink the rules did not call for: every connection that stopped being active was
    # named by an unlink or delete of the plan.
    named = {a.connection_id for a in plan.actions if a.kind.destructive}
    # What the file cannot name, and what is Linked on a company whose entry left the file,
    # is never named at all (policy prune is off here): it cannot be cut off.
    in_file = {c.uid for c in state.customers}
    untouchable = {
        k.id
        for c in before.companies
        for k in c.connections
        if not k.nameable or (k.status == "Linked" and c.owner == OWNER and c.uid not in in_file)
    }
    assert not named & untouchable, render_plan_json(plan)
    # A uid that carried no company (in any case) before the plan, while the company it named
    # now carries another uid, is never given a new one: the identity edit is held.
    created = {a.uid for a in plan.actions if a.kind is Kind.CREATE_COMPANY}
    assert not created & set(held_uids), (created, render_plan_json(plan))
    was_active = {(c.id, k.id) for c in before.companies for k in c.connections if k.active}
    still = {(c.id, k.id) for c in after.companies for k in c.connections if k.active}
    for _company_id, conn_id in was_active - still:
        assert conn_id in named, (conn_id, render_plan_json(plan))
    return {o.action.uid for o in failed}


async def converge(
    client: CodatClient, state: DesiredState, held_uids: frozenset[str] = frozenset()
) -> tuple[LiveState, set[str]]:
    """Apply until a fresh plan has no changes: once, or twice when the first removed a
    protection (destruction waits for the next plan). Returns the live state and the uids
    the last plan refused."""
    for _ in range(2):
        asked = await apply_once(client, state, held_uids)
        again = make_plan(state, await read_live(client, state), OPTIONS)
        if not again.has_changes:
            return await read_all(client), {r.uid for r in again.refused}
        if asked and {c.uid for c in again.changes} <= asked:
            # Waiting for a person: nothing else to do. What the plan refuses waits for one
            # too (e.g. uid tags that look swapped): it is not expected to match the file.
            return await read_all(client), asked | {r.uid for r in again.refused}
    raise AssertionError(render_plan_json(again))


# Two same-named customers; one company's uid tag copied onto the other's, whose owner tag is
# then removed: the copy is u1's twin, not a reason to create u0 again (seed 2, 1,500 examples).
ACME = [Customer(uid=u, name="Acme") for u in ("u0", "u1")]


@pytest.mark.slow
@example(
    first=tuple(ACME),
    second=(),
    picks=[("retag_other", 0, 0), ("drop_owner", 1, 0)],
    dropped=set(),
    more=[],
)
@settings(max_examples=examples(30), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    first=customers(),
    second=customers(),
    picks=st.lists(DRIFT, max_size=4),
    dropped=st.sets(st.sampled_from(UIDS), max_size=3),
    more=st.lists(DRIFT, max_size=4),
)
def test_apply_converges_through_drift(
    first: tuple[Customer, ...],
    second: tuple[Customer, ...],
    picks: list[Drift],
    dropped: set[str],
    more: list[Drift],
) -> None:
    clock = MovingClock()  # Codat's, which `drift` moves on instead of sleeping
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "sandbox.db"
        options = SandboxOptions(db_path=db, daily_quota=10**9)
        store = Store(db, clock=clock)
        app = create_app(options, clock, date_header=True, store=store)

        async def go() -> None:
            settings_ = ClientSettings(base_url="http://127.0.0.1:8765")
            transport = httpx.ASGITransport(app=app)
            async with CodatClient("k", settings_, transport=transport) as client:
                one = DesiredState(OWNER, first)
                live, refused = await converge(client, one)
                assert_matches(one, live, refused)
                had = frozenset(c.uid for c in live.companies if c.uid)
                drift(db, live, picks, clock)
                # After people and customers acted: no customer that had a company gets another.
                live, refused = await converge(client, one, held_uids=had)
                assert_matches(one, live, refused)
                # Entries dropped from the file: what is Linked stays Linked (checked in
                # apply_once), and the rest still converges.
                kept = DesiredState(OWNER, tuple(c for c in first if c.uid not in dropped))
                live, refused = await converge(client, kept)
                assert_matches(kept, live, refused)
                drift(db, live, more, clock)
                two = DesiredState(OWNER, second)
                live, refused = await converge(client, two)
                assert_matches(two, live, refused)

        asyncio.run(go())
