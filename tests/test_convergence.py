"""Property: whatever the file says and whatever Codat holds, apply then plan shows no changes.

Random desired states are applied twice in a row (the second one a random edit of the first:
renames, retags, platform moves, customers leaving, expenses toggled) to the sandbox in process,
with random customer authorizations in between; after each apply a fresh plan must be empty and
Codat must hold what the file says.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconcile.codat import ClientSettings, CodatClient
from reconcile.executor import execute
from reconcile.live import read_live
from reconcile.model import PLATFORMS, Customer, DesiredState, LiveState
from reconcile.planner import PlanOptions, make_plan
from reconcile.sandbox.app import create_app
from reconcile.sandbox.options import SandboxOptions
from reconcile.sandbox.store import Store

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
        )
        for uid in uids
    )


def authorize_some(db: Path, live: LiveState, picks: list[bool]) -> None:
    """The customers who click Authorize on their pending accounting connection."""
    store = Store(db)
    try:
        for company, pick in zip(live.companies, picks, strict=False):
            for conn in company.connections:
                if pick and conn.is_accounting and conn.status == "PendingAuth":
                    store.set_connection_status(company.id, conn.id, "Linked")
    finally:
        store.close()


def assert_matches(state: DesiredState, live: LiveState) -> None:
    by_uid = {c.uid: c for c in live.companies}
    for customer in state.customers:
        company = by_uid[customer.uid]
        assert company.name == customer.name
        assert company.user_tags == dict(customer.tags)
        active = [
            c
            for c in company.connections
            if c.is_accounting and c.status in ("Linked", "PendingAuth")
        ]
        if customer.accounting is None:
            assert active == []
        else:
            assert [c.platform.key for c in active if c.platform] == [customer.accounting]
        expense = [c for c in company.connections if c.is_partner_expense and c.status == "Linked"]
        if not customer.expenses:
            assert expense == []
    for company in live.companies:
        if company.uid not in {c.uid for c in state.customers}:
            assert all(c.status not in ("Linked", "PendingAuth") for c in company.connections)


async def converge(client: CodatClient, state: DesiredState) -> LiveState:
    plan = make_plan(state, await read_live(client, state), OPTIONS)
    result = await execute(plan, client)
    assert result.ok, [o.detail for o in result.of("failed")]
    live = await read_live(client, state)
    again = make_plan(state, live, OPTIONS)
    assert not again.has_changes, again.to_json()
    return live


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(first=customers(), second=customers(), picks=st.lists(st.booleans(), max_size=6))
def test_apply_converges(
    first: tuple[Customer, ...], second: tuple[Customer, ...], picks: list[bool]
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "sandbox.db"
        app = create_app(SandboxOptions(db_path=db, daily_quota=10**9))

        async def go() -> None:
            settings_ = ClientSettings(base_url="http://127.0.0.1:8765")
            transport = httpx.ASGITransport(app=app)
            async with CodatClient("k", settings_, transport=transport) as client:
                one = DesiredState(OWNER, first)
                live = await converge(client, one)
                assert_matches(one, live)
                authorize_some(db, live, picks)
                await converge(client, one)  # deferred work happens after authorization
                two = DesiredState(OWNER, second)
                assert_matches(two, await converge(client, two))

        asyncio.run(go())
