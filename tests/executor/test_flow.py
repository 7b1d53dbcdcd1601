"""The shared send flow: surprises stay one action's failure; a create believes only its own
company (issue 10 points 1 and 3)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest

from reconcile.executor import ApplyResult, Outcome, execute
from reconcile.facts.fleet import read_live
from reconcile.model import DesiredState
from reconcile.planner import make_plan
from reconcile.plans import Action
from tests.executor.helpers import OWNER, Answer, desired, in_process

FOREIGN = "0f0f0f0f-0000-4000-8000-00000000f0f0"


def page(*companies: dict[str, object]) -> tuple[int, dict[str, object]]:
    links = {"self": {"href": "/companies"}, "current": {"href": "/companies"}}
    return 200, {
        "results": list(companies),
        "pageNumber": 1,
        "pageSize": 5000,
        "totalResults": len(companies),
        "_links": links,
    }


def connect_two(
    tmp_path: Path, hostile: Callable[[str, str, str], Answer | None]
) -> dict[str, Outcome]:
    """Two customers' companies exist; their accounting connections are then applied while
    `hostile(method, path, victim)` answers for Codat (None: the sandbox does), `victim`
    being the id of cus-000's company. Returns each customer's outcome."""
    victims: list[str] = []

    def script(method: str, path: str, n: int, key: str | None) -> Answer:
        answer = hostile(method, path, victims[0]) if victims else None
        return "pass" if answer is None else answer

    codat, _app = in_process(tmp_path, script)
    bare = desired(2, accounting=None)
    wanted = desired(2)

    async def go() -> ApplyResult:
        async with codat as c:
            assert (await execute(make_plan(bare, await read_live(c, bare)), c)).ok
            plan = make_plan(wanted, await read_live(c, wanted))
            victims.append(next(ch.company_id or "" for ch in plan.changes if ch.uid == "cus-000"))
            return await execute(plan, c)

    return {o.action.uid: o for o in asyncio.run(go()).outcomes}


def test_an_unexpected_error_fails_that_action_and_the_run_goes_on(tmp_path: Path) -> None:
    """A connection create loses its answer; the check-read answers a body the tool cannot
    read. That customer's action fails; the other customer is applied; there is a result."""

    def hostile(method: str, path: str, victim: str) -> Answer | None:
        if (method, path) == ("POST", f"/companies/{victim}/connections"):
            return "lost"
        if (method, path) == ("GET", f"/companies/{victim}"):
            return 200, {"id": victim, "name": "x", "tags": {}, "dataConnections": [1]}
        return None

    by_uid = connect_two(tmp_path, hostile)
    assert by_uid["cus-001"].status == "applied"
    assert by_uid["cus-000"].status == "failed"
    assert "run plan again" in by_uid["cus-000"].detail


def test_an_unreadable_write_answer_is_checked_not_believed(tmp_path: Path) -> None:
    """Codat answers a connection create with 200 and a body that is no connection (and
    creates nothing). That is no success: the check-read finds no connection, the action
    fails, and the other customer is applied."""

    def hostile(method: str, path: str, victim: str) -> Answer | None:
        if (method, path) == ("POST", f"/companies/{victim}/connections"):
            return 200, [1]
        return None

    by_uid = connect_two(tmp_path, hostile)
    assert by_uid["cus-001"].status == "applied"
    assert by_uid["cus-000"].status == "failed"


def test_a_bug_in_one_action_fails_that_action_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A TypeError (a bug, or an answer no check foresaw) while sending one customer's action
    is that action's failure, with its type and message; the rest of the run goes on."""
    from reconcile.executor.flow import HANDLERS
    from reconcile.plans import Kind

    handler = HANDLERS[Kind.CREATE_CONNECTION]
    original = handler.accept

    def accept(action: Action, company_id: str | None, body: object) -> str | None:
        if action.uid == "cus-000":
            raise TypeError("'int' object is not subscriptable")
        return original(action, company_id, body)

    monkeypatch.setattr(handler, "accept", accept)
    codat, _app = in_process(tmp_path, lambda *_: "pass")
    state = desired(3)

    async def go() -> ApplyResult:
        async with codat as c:
            return await execute(make_plan(state, await read_live(c, state)), c)

    result = asyncio.run(go())
    statuses = sorted((o.action.uid, o.action.kind.value, o.status) for o in result.outcomes)
    assert ("cus-000", "create_connection", "failed") in statuses
    assert [s for s in statuses if s[0] != "cus-000"] == [
        (uid, kind, "applied")
        for uid in ("cus-001", "cus-002")
        for kind in ("create_company", "create_connection")
    ]
    (failed,) = result.of("failed")
    assert "TypeError" in failed.detail and "run plan again" in failed.detail


def test_did_my_create_land_ignores_another_owners_company(tmp_path: Path) -> None:
    """The create's answers are 503s; the uid read then offers a company of another owner with
    the same uid. It is not ours: nothing is written to it, and the create goes out again."""

    posted: list[int] = []

    def script(method: str, path: str, n: int, key: str | None) -> Answer:
        if path == "/companies" and method == "POST":
            posted.append(n)
            return 503 if n < 3 else "pass"  # the three attempts under the first key
        if path == "/companies" and method == "GET" and posted:  # the check-reads
            foreign = {
                "id": FOREIGN,
                "name": "Customer 0",
                "tags": {"reconcile.owner": "someone-else", "reconcile.uid": "cus-000"},
                "dataConnections": [],
                "created": "2026-01-01T00:00:00Z",
            }
            return page(foreign)
        return "pass"

    codat, app = in_process(tmp_path, script)
    state = desired(1)

    async def go() -> ApplyResult:
        async with codat as c:
            plan = make_plan(state, await read_live(c, state))
            return await execute(plan, c, absence_recheck_seconds=0)

    result = asyncio.run(go())
    first, second = result.outcomes
    assert first.status == "applied" and first.company_id not in (None, FOREIGN)
    assert second.status == "applied" and second.company_id == first.company_id
    assert not [p for _m, p in app.seen if FOREIGN in p]


def test_did_my_create_land_ignores_a_company_of_another_uid(tmp_path: Path) -> None:
    """A filter that answers more than it was asked for (another uid of the same owner) is not
    proof either."""

    posted: list[int] = []

    def script(method: str, path: str, n: int, key: str | None) -> Answer:
        if path == "/companies" and method == "POST":
            posted.append(n)
            return 503 if n < 3 else "pass"
        if path == "/companies" and method == "GET" and posted:
            other = {
                "id": FOREIGN,
                "name": "Customer 9",
                "tags": {"reconcile.owner": OWNER, "reconcile.uid": "cus-009"},
                "dataConnections": [],
            }
            return page(other)
        return "pass"

    codat, app = in_process(tmp_path, script)
    state = DesiredState(OWNER, desired(1).customers[:1])

    async def go() -> ApplyResult:
        async with codat as c:
            plan = make_plan(state, await read_live(c, state))
            return await execute(plan, c, absence_recheck_seconds=0)

    result = asyncio.run(go())
    assert [o.status for o in result.outcomes] == ["applied", "applied"]
    assert result.outcomes[0].company_id != FOREIGN
    assert not [p for _m, p in app.seen if FOREIGN in p]
