"""The executor against a served sandbox, with and without faults: nothing lost, nothing twice."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import pytest

from reconcile.codat import ClientSettings, CodatClient
from reconcile.executor import ApplyResult, execute
from reconcile.live import read_live
from reconcile.model import Customer, DesiredState, LiveState
from reconcile.plan import Plan
from reconcile.planner import make_plan
from tests.sandbox_server import serve_sandbox

OWNER = "exec-test"


def desired(n: int, **kw: object) -> DesiredState:
    customers = tuple(
        Customer(uid=f"cus-{i:03}", name=f"Customer {i}", accounting="gbol", **kw)  # type: ignore[arg-type]
        for i in range(n)
    )
    return DesiredState(OWNER, customers)


def client(url: str) -> CodatClient:
    return CodatClient(
        "key", ClientSettings(base_url=url, backoff_base=0.01, backoff_cap=0.02, max_attempts=15)
    )


async def plan_and_apply(url: str, state: DesiredState) -> tuple[Plan, ApplyResult, LiveState]:
    async with client(url) as c:
        plan = make_plan(state, await read_live(c, state))
        result = await execute(plan, c, parallelism=8)
        return plan, result, await read_live(c, state)


def test_apply_converges(tmp_path: Path) -> None:
    state = desired(5, expenses=True, tags={"region": "uk"})
    with serve_sandbox(tmp_path / "s.db") as url:
        plan, result, live = asyncio.run(plan_and_apply(url, state))
        assert plan.summary()["create"] == 10
        assert result.ok and len(result.of("applied")) == 10
        assert len(live.companies) == 5
        assert not make_plan(state, live).has_changes


def test_failure_stops_only_that_customer(tmp_path: Path) -> None:
    """A failed action skips that customer's later actions; other customers go on."""

    async def go(url: str) -> ApplyResult:
        async with client(url) as c:
            bare = DesiredState(
                OWNER, tuple(Customer(uid=f"cus-{i}", name=f"Customer {i}") for i in range(2))
            )
            assert (await execute(make_plan(bare, await read_live(c, bare)), c)).ok
            wanted = DesiredState(
                OWNER,
                tuple(
                    Customer(uid=f"cus-{i}", name=f"Renamed {i}", accounting="gbol")
                    for i in range(2)
                ),
            )
            plan = make_plan(wanted, await read_live(c, wanted))
            victim = next(ch.company_id for ch in plan.changes if ch.uid == "cus-0")
            assert victim is not None
            await c.delete_company(victim)  # gone between plan and apply
            return await execute(plan, c)

    with serve_sandbox(tmp_path / "s.db") as url:
        result = asyncio.run(go(url))
    outcomes = sorted((o.action.uid, o.action.kind.value, o.status) for o in result.outcomes)
    assert outcomes == [
        ("cus-0", "create_connection", "skipped"),
        ("cus-0", "update_company", "failed"),
        ("cus-1", "create_connection", "applied"),
        ("cus-1", "update_company", "applied"),
    ]
    failed = result.of("failed")[0]
    assert failed.correlation_id and "404" in failed.detail


@pytest.mark.slow
@pytest.mark.parametrize(
    "fault", ["--error-rate", "--throttle-rate", "--drop-rate", "--lost-response-rate"]
)
def test_faults_never_lose_or_duplicate(tmp_path: Path, fault: str) -> None:
    state = desired(12, expenses=True)
    with serve_sandbox(tmp_path / "s.db", fault, "0.3", "--seed", "11") as url:
        plan, result, live = asyncio.run(plan_and_apply(url, state))
    assert result.ok, [o.detail for o in result.of("failed")]
    assert plan.summary()["create"] == 24  # 12 companies + 12 accounting connections
    uids = sorted(c.uid or "" for c in live.companies)
    assert uids == [f"cus-{i:03}" for i in range(12)]  # each exactly once
    for company in live.companies:
        accounting = [c for c in company.connections if c.is_accounting]
        assert len(accounting) == 1, company
    assert not make_plan(state, live).has_changes


def test_lost_create_response_is_recovered_by_reading_the_uid_tag(tmp_path: Path) -> None:
    """No retries at all: the create commits, its answer is lost, and a re-read finds it."""
    from reconcile.sandbox.faults import LOST, FaultPlan
    from reconcile.sandbox.options import SandboxOptions

    def decisions(seed: int) -> list[str | None]:
        fp = FaultPlan(SandboxOptions(db_path=tmp_path / "x", lost_response_rate=0.5, seed=seed))
        return [fp.decide().kind for _ in range(3)]

    seed = next(s for s in range(1000) if decisions(s) == [None, LOST, None])
    state = desired(1)

    async def go(url: str) -> tuple[ApplyResult, LiveState]:
        settings = ClientSettings(base_url=url, max_attempts=1)
        async with CodatClient("key", settings) as c:
            plan = make_plan(state, await read_live(c, state))
            change = plan.changes[0]
            only_create = Plan(plan.owner, (replace(change, actions=change.actions[:1]),))
            result = await execute(only_create, c)
        async with client(url) as c:
            return result, await read_live(c, state)

    args = ("--lost-response-rate", "0.5", "--seed", str(seed))
    with serve_sandbox(tmp_path / "s.db", *args) as url:
        result, live = asyncio.run(go(url))
    (outcome,) = result.outcomes
    assert outcome.status == "applied" and outcome.detail == "confirmed by re-reading"
    assert [c.id for c in live.companies] == [outcome.company_id]


def test_two_applies_at_once_create_each_company_once(tmp_path: Path) -> None:
    """The second apply's POSTs meet the first's keys in flight (409) and wait for the replay."""
    state = desired(4)

    async def go(url: str) -> tuple[list[ApplyResult], LiveState]:
        async with client(url) as a, client(url) as b:
            plan_a = make_plan(state, await read_live(a, state))
            plan_b = make_plan(state, await read_live(b, state))
            results = await asyncio.gather(execute(plan_a, a), execute(plan_b, b))
            return list(results), await read_live(a, state)

    with serve_sandbox(tmp_path / "s.db", "--latency-ms", "300") as url:
        results, live = asyncio.run(go(url))
    assert all(r.ok for r in results), [o.detail for r in results for o in r.of("failed")]
    assert sorted(c.uid or "" for c in live.companies) == [f"cus-{i:03}" for i in range(4)]
    assert all(len(c.connections) == 1 for c in live.companies)


def test_stale_replay_of_a_deleted_company_is_sent_again(tmp_path: Path) -> None:
    """Within Codat's 90-minute replay window, a recreated company must be really recreated."""
    state = desired(1)

    async def go(url: str) -> tuple[ApplyResult, LiveState]:
        async with client(url) as c:
            first = await execute(make_plan(state, await read_live(c, state)), c)
            assert first.ok
            (company,) = (await read_live(c, state)).companies
            await c.delete_company(company.id)
            await asyncio.sleep(2.1)  # Date has whole seconds, read_at steps back one
            again = await execute(make_plan(state, await read_live(c, state)), c)
            return again, await read_live(c, state)

    with serve_sandbox(tmp_path / "s.db") as url:
        result, live = asyncio.run(go(url))
    assert result.ok
    assert len(live.companies) == 1 and len(live.companies[0].connections) == 1
    assert not make_plan(state, live).has_changes


def test_expense_config_flip_flop_is_really_written(tmp_path: Path) -> None:
    from reconcile.model import ExpenseConfig

    def wanting(bank: str) -> DesiredState:
        return DesiredState(
            OWNER,
            (
                Customer(
                    uid="cfg",
                    name="Config Co",
                    accounting="gbol",
                    expense_config=ExpenseConfig(bank, "124", "140"),
                ),
            ),
        )

    async def go(url: str, db: Path) -> list[str | None]:
        seen: list[str | None] = []
        async with client(url) as c:
            await execute(make_plan(wanting("89"), await read_live(c, wanting("89"))), c)
            from reconcile.sandbox.store import Store

            store = Store(db)
            (company,) = store.find_companies_by_tag("reconcile.uid", "cfg")
            conn_id = company["dataConnections"][0]["id"]
            store.set_connection_status(company["id"], conn_id, "Linked")
            store.close()
            for bank in ("89", "90", "89", "90"):
                state = wanting(bank)
                result = await execute(make_plan(state, await read_live(c, state)), c)
                assert result.ok, [o.detail for o in result.of("failed")]
                config = (await read_live(c, state)).expense_configs[company["id"]]
                seen.append(config.bank_account if config else None)
        return seen

    db = tmp_path / "s.db"
    with serve_sandbox(db) as url:
        assert asyncio.run(go(url, db)) == ["89", "90", "89", "90"]


def test_converges_when_codat_omits_integration_key(tmp_path: Path) -> None:
    """Connections are matched by platformName when integrationKey is absent on the wire."""
    state = desired(3, expenses=True)
    with serve_sandbox(tmp_path / "s.db", "--omit-integration-key") as url:
        _plan, result, live = asyncio.run(plan_and_apply(url, state))
    assert result.ok
    connections = [c for company in live.companies for c in company.connections]
    assert connections and all(c.integration_key is None for c in connections)
    assert not make_plan(state, live).has_changes


class Scripted:
    """The sandbox behind a scripted fault: `script(method, path, n, key)` returns what to do
    with the n-th request (0-based) to that method and path, sent under Idempotency-Key `key`:
    "pass", "lost" (run it, then drop the connection) or a status to answer without running
    it."""

    def __init__(self, app: object, script: object) -> None:
        self.app, self.script = app, script
        self.counts: dict[tuple[str, str], int] = {}

    async def __call__(self, scope: dict, receive: object, send: object) -> None:  # type: ignore[type-arg]
        import httpx as _httpx
        from starlette.responses import JSONResponse

        if scope["type"] != "http":
            return await self.app(scope, receive, send)  # type: ignore[operator, no-any-return]
        key = (scope["method"], scope["path"])
        n = self.counts.get(key, 0)
        self.counts[key] = n + 1
        headers = dict(scope["headers"])
        idem = headers.get(b"idempotency-key", b"").decode() or None
        what = self.script(*key, n, idem)  # type: ignore[operator]
        if what == "pass":
            return await self.app(scope, receive, send)  # type: ignore[operator, no-any-return]
        if what == "lost":

            async def swallow(message: object) -> None:
                return None

            await self.app(scope, receive, swallow)  # type: ignore[operator]
            raise _httpx.RemoteProtocolError("connection closed without a response")
        body = {"statusCode": what, "service": "test", "error": "scripted", "correlationId": "c"}
        await JSONResponse(body, status_code=what)(scope, receive, send)  # type: ignore[arg-type]
        return None


def in_process(tmp_path: Path, script: object) -> tuple[CodatClient, Path]:
    import httpx as _httpx

    from reconcile.sandbox.app import create_app
    from reconcile.sandbox.options import SandboxOptions

    db = tmp_path / "s.db"
    app = Scripted(create_app(SandboxOptions(db_path=db)), script)
    settings = ClientSettings(base_url="http://127.0.0.1:8765", backoff_base=0, max_attempts=3)
    return CodatClient("k", settings, transport=_httpx.ASGITransport(app=app)), db


def companies_in(db: Path) -> int:
    from reconcile.sandbox.store import Store

    store = Store(db)
    try:
        return store.count_companies()
    finally:
        store.close()


def test_unknown_landing_never_sends_a_second_create(tmp_path: Path) -> None:
    """The create commits but its answer is lost, every retry answers 503, and the uid read
    fails too: the executor must not send it again under a fresh key."""

    first_key: list[str | None] = []

    def script(method: str, path: str, n: int, key: str | None) -> object:
        if path != "/companies":
            return "pass"
        if method == "POST":
            if n == 0:
                first_key.append(key)
                return "lost"
            return 503 if key == first_key[0] else "pass"  # a fresh key would go through
        return "pass" if n == 0 else 503  # the plan's read passes; the check-read fails

    client_, db = in_process(tmp_path, script)
    state = desired(1)

    async def go() -> ApplyResult:
        async with client_ as c:
            return await execute(make_plan(state, await read_live(c, state)), c)

    result = asyncio.run(go())
    (outcome, *_rest) = result.outcomes
    assert outcome.status == "failed" and "run plan again" in outcome.detail
    assert companies_in(db) == 1


def test_confirmed_absent_after_5xx_is_sent_once_more_under_a_fresh_key(tmp_path: Path) -> None:
    """Codat replays a keyed 5xx for 90 minutes: once the uid read shows nothing landed, a
    fresh key gets a real answer."""
    keys: list[str | None] = []

    def script(method: str, path: str, n: int, key: str | None) -> object:
        if method == "POST" and path == "/companies":
            return 500 if n < 3 else "pass"  # the three attempts under the first key
        return "pass"

    client_, db = in_process(tmp_path, script)
    state = desired(1)

    async def go() -> ApplyResult:
        async with client_ as c:
            original = c.request

            async def spy(method: str, path: str, **kw: object) -> object:
                if method == "POST" and path == "/companies":
                    keys.append(kw.get("idempotency_key"))  # type: ignore[arg-type]
                return await original(method, path, **kw)  # type: ignore[arg-type]

            c.request = spy  # type: ignore[method-assign, assignment]
            plan = make_plan(state, await read_live(c, state))
            return await execute(
                replace(
                    plan, changes=(replace(plan.changes[0], actions=plan.changes[0].actions[:1]),)
                ),
                c,
            )

    result = asyncio.run(go())
    assert [o.status for o in result.outcomes] == ["applied"]
    assert len(keys) == 2 and keys[0] != keys[1]
    assert companies_in(db) == 1
