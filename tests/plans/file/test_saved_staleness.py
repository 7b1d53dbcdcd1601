"""reconcile.plans.file.staleness, pure: per action landed, changed behind it, or remaining."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from reconcile.model import OWNER_TAG, UID_TAG, Company, Connection, ExpenseConfig, LiveState
from reconcile.plans import Kind
from reconcile.plans.file.staleness import Verdict, judge
from tests.plans.file.test_saved_json import OWNER, rich_plan
from tests.plans.file.test_saved_json import live_companies as rich_live
from tests.plans.file.test_saved_unit import load, saved_doc

Companies = dict[str, Company]


def verdict(change: Any = None, configs: Any = None, gone: frozenset[str] = frozenset()) -> Verdict:
    live = {c.id: c for c in rich_live()}
    if change is not None:
        live = change(live)
    read = LiveState(OWNER, tuple(live.values()), configs or {"c-cfg": None}, gone=gone)
    return judge(load(saved_doc()), read)


def _tweak(cid: str, **changes: Any) -> Any:
    def tweak(live: Companies) -> Companies:
        live[cid] = replace(live[cid], **changes)
        return live

    return tweak


def _conn_status(cid: str, index: int, status: str) -> Any:
    def tweak(live: Companies) -> Companies:
        company = live[cid]
        conns = list(company.connections)
        conns[index] = replace(conns[index], status=status)
        live[cid] = replace(company, connections=tuple(conns))
        return live

    return tweak


def test_nothing_changed_leaves_every_action_to_apply() -> None:
    found = verdict()
    assert found.landed == () and found.changed == ()
    assert found.remaining == rich_plan().actions


def test_untouched_company_changing_is_not_stale() -> None:
    found = verdict(_conn_status("c-wait", 0, "Linked"))
    assert found.changed == () and found.landed == ()


def test_a_rename_does_not_go_stale_when_its_connection_changes() -> None:
    """c-ren's plan only renames it: its Linked connection being deauthorized is not its
    business."""
    found = verdict(_conn_status("c-ren", 0, "Deauthorized"))
    assert found.changed == ()


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (_tweak("c-ren", name="Someone Else"), 'ren company c-ren "Acme": name "Acme" -> '),
        (
            _tweak("c-ren", tags={OWNER_TAG: OWNER, UID_TAG: "ren", "region": "us"}),
            "tag added region=us",
        ),
        (
            _tweak("c-ren", tags={OWNER_TAG: "someone-else", UID_TAG: "ren"}),
            'tag reconcile.owner "expenses-json" -> "someone-else"',
        ),
        (_tweak("c-ren", tags={OWNER_TAG: OWNER}), "tag removed reconcile.uid=ren"),
        (_tweak("c-ren", description="new words"), 'description "" -> "new words"'),
        (_conn_status("c-move", 0, "Deauthorized"), "connection m1 status Linked -> Deauthorized"),
        (_conn_status("c-left", 1, "Linked"), "connection l2 status PendingAuth -> Linked"),
        (_tweak("c-gone", name="Renamed"), 'gone company c-gone "Acme": name "Acme" -> "Renamed"'),
    ],
)
def test_each_change_an_action_depends_on_is_named(change: Any, expected: str) -> None:
    found = verdict(change)
    assert found.landed == ()
    assert any(expected in line for line in found.changed), found.changed
    assert len({line.split(":")[0] for line in found.changed}) == 1, found.changed


def test_a_company_gone_is_deleted_and_a_twin_is_named() -> None:
    found = verdict(gone=frozenset({"c-ren"}))
    assert found.changed == ('ren company c-ren "Acme": deleted',)

    def twin(live: Companies) -> Companies:
        live["c-twin"] = Company("c-twin", "Twin", None, {OWNER_TAG: OWNER, UID_TAG: "ren"})
        return live

    assert any("a second company c-twin" in line for line in verdict(twin).changed)


def test_a_config_changed_since_the_plan_makes_it_stale() -> None:
    found = verdict(configs={"c-cfg": ExpenseConfig("1", "2", "3")})
    assert any(
        line.startswith('cfg company c-cfg "Acme": expense_config') for line in found.changed
    )


def test_hostile_names_are_escaped() -> None:
    found = verdict(_tweak("c-ren", name="x\x1b]52;c;AAAA\x07\ny"))
    assert "\x1b" not in found.changed[0] and "\n" not in found.changed[0]


def test_something_landed_makes_it_partly_applied() -> None:
    after = next(a for a in rich_plan().actions if a.kind is Kind.UPDATE_COMPANY).after
    assert after is not None
    found = verdict(_tweak("c-ren", name=after["name"], description=after["description"]))
    assert [a.kind for a in found.landed] == [Kind.UPDATE_COMPANY]
    assert found.total == len(rich_plan().actions) and found.changed == ()


def test_everything_landed_is_already_applied() -> None:
    """The state an apply of the rich plan leaves: every action's effect holds."""
    plan = rich_plan()

    def applied(live: Companies) -> Companies:
        for action in plan.actions:
            cid = action.company_id or "c-new"  # the one company the plan creates
            after = action.after or {}
            if action.kind is Kind.CREATE_COMPANY:
                tags = {OWNER_TAG: OWNER, UID_TAG: action.uid}
                live[cid] = Company(cid, str(after["name"]), None, tags)
            company = live.get(cid)
            if action.kind is Kind.DELETE_COMPANY:
                live.pop(cid)
            elif action.kind is Kind.UPDATE_COMPANY and company is not None:
                live[cid] = replace(company, name=after["name"], tags=after["tags"])
            elif action.kind in (Kind.UNLINK_CONNECTION, Kind.DELETE_CONNECTION):
                assert company is not None
                kept = tuple(c for c in company.connections if c.id != action.connection_id)
                live[cid] = replace(company, connections=kept)
            elif action.kind in (Kind.CREATE_CONNECTION, Kind.CREATE_PARTNER_EXPENSE):
                assert company is not None
                key = after.get("platformKey", "expn")
                source = "Expense" if key == "expn" else "Accounting"
                status = "Linked" if key == "expn" else "PendingAuth"
                made = Connection(f"n-{cid}-{key}", source, "", status, "", "", key)
                live[cid] = replace(company, connections=(*company.connections, made))
        return live

    found = verdict(applied, configs={"c-cfg": ExpenseConfig("89", "124", "140")})
    # A data refresh leaves nothing a company read shows: it is never counted as landed (asking
    # again is harmless), and only it remains.
    assert {a.kind for a in found.remaining} == {Kind.REFRESH_DATA}
    assert len(found.landed) == len(plan.actions) - len(found.remaining)


def test_what_a_landed_action_did_is_no_change_behind_the_plan() -> None:
    """Issue 25, case 11: c-move's unlink of m1 landed (another apply made it); the connection
    create beside it depends on the accounting connections, which differ only by that unlink:
    nothing is held, every remaining action runs."""
    found = verdict(_conn_status("c-move", 0, "Unlinked"))
    assert [(a.kind, a.connection_id) for a in found.landed] == [(Kind.UNLINK_CONNECTION, "m1")]
    assert found.held == () and found.changed == ()
    assert found.runnable == found.remaining
    assert any(a.kind is Kind.CREATE_CONNECTION and a.uid == "move" for a in found.runnable)


def test_partly_applied_holds_only_the_customers_changed_behind_the_plan() -> None:
    def both(live: Companies) -> Companies:
        live = _conn_status("c-move", 0, "Unlinked")(live)  # landed
        return _tweak("c-ren", name="Someone Else")(live)  # changed behind the plan

    found = verdict(both)
    assert {a.uid for a in found.held} == {"ren"}
    assert any('ren company c-ren "Acme": name "Acme" -> ' in line for line in found.changed)
    assert {a.uid for a in found.runnable} == {a.uid for a in found.remaining} - {"ren"}
    # The control: a status the plan's unlink cannot explain holds c-move too.
    deauthorized = verdict(_conn_status("c-move", 0, "Deauthorized"))
    assert deauthorized.landed == () and deauthorized.changed
