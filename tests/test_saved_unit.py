"""reconcile.saved, pure: building, signing, verifying and diffing what a saved plan saw."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from reconcile.model import OWNER_TAG, UID_TAG, Company, Connection
from reconcile.saved import (
    SavedPlan,
    SavedPlanError,
    build,
    check_files,
    dumps,
    key_id,
    looks_like_plan,
    parse,
    stale_findings,
    structure_problems,
    touched,
    verify,
)
from tests.test_saved_json import OWNER, rich_plan
from tests.test_saved_json import live_companies as rich_live

KEY = "key-one"
URL = "https://api.codat.io"
FILES = [("customers.yaml", b"version: 1\n")]


def live_companies() -> dict[str, Company]:
    """The companies `rich_plan` saw, by id."""
    return {c.id: c for c in rich_live()}


def saved_doc(key: str = KEY) -> dict[str, Any]:
    plan = rich_plan()
    live = live_companies()
    return build(
        plan,
        api_key=key,
        base_url=URL,
        tool_version="9.9.9",
        files=FILES,
        seen={cid: live[cid] for cid in touched(plan)},
    )


def load(doc: dict[str, Any]) -> SavedPlan:
    return parse(dumps(doc).encode(), "plan.json")


def test_saved_document_validates_and_never_holds_the_key() -> None:
    doc = saved_doc()
    assert structure_problems(doc) == []
    assert KEY not in dumps(doc)
    assert doc["key_id"] == key_id(KEY) != key_id("key-two")
    assert set(doc["seen"]) == set(touched(rich_plan()))


def test_round_trip_verifies() -> None:
    saved = load(saved_doc())
    verify(saved, api_key=KEY, base_url=URL, source="plan.json")
    assert saved.plan.to_dict()["changes"] == rich_plan().to_dict()["changes"]


def test_another_key_is_told_apart_from_an_edit() -> None:
    with pytest.raises(SavedPlanError, match="another Codat account"):
        verify(load(saved_doc()), api_key="key-two", base_url=URL, source="plan.json")


@pytest.mark.parametrize(
    "edit",
    [
        lambda d: d["changes"][0]["actions"][0]["request"]["body"].update(name="Evil"),
        lambda d: d["seen"][next(iter(d["seen"]))].update(name="Other"),
        lambda d: d.update(base_url="https://evil.example"),
        lambda d: d["changes"].pop(),
        lambda d: d["desired"].update(digest="sha256:" + "0" * 64),
    ],
)
def test_any_edit_is_refused(edit: Any) -> None:
    doc = json.loads(dumps(saved_doc()))
    edit(doc)
    with pytest.raises(SavedPlanError, match="edited after it was saved"):
        verify(load(doc), api_key=KEY, base_url=URL, source="plan.json")


def test_observed_at_is_outside_the_signature() -> None:
    doc = saved_doc()
    doc["observed_at"] = "2020-01-01T00:00:00+00:00"
    verify(load(doc), api_key=KEY, base_url=URL, source="plan.json")


def test_another_base_url_is_refused() -> None:
    with pytest.raises(SavedPlanError, match=r'made against "https://api.codat.io"'):
        verify(load(saved_doc()), api_key=KEY, base_url="https://other", source="plan.json")


def test_unknown_format_version_is_refused_before_anything_else() -> None:
    doc = saved_doc()
    doc["format_version"] = "2"
    with pytest.raises(SavedPlanError, match=r'format_version "2" is unknown.*reconcile 9\.9\.9'):
        load(doc)


def test_printed_plan_is_recognised_and_refused_with_the_way_to_save_one() -> None:
    raw = rich_plan().to_json().encode()
    assert looks_like_plan(raw)
    with pytest.raises(SavedPlanError, match="--out"):
        parse(raw, "p.json")
    assert not looks_like_plan(b"version: 1\nowner: x\ncustomers: []\n")
    assert not looks_like_plan(b'{"version": 1}')


def test_other_file_contents_are_refused() -> None:
    saved = load(saved_doc())
    check_files(saved, [("elsewhere/customers.yaml", FILES[0][1])], "plan.json")
    with pytest.raises(SavedPlanError, match="files changed after the plan was made"):
        check_files(saved, [("customers.yaml", b"version: 1\n# edited\n")], "plan.json")


# ---------------------------------------------------------------------- staleness


def findings(change: Any) -> list[str]:
    saved = load(saved_doc())
    live = live_companies()
    return stale_findings(saved, change(live).values())


def test_nothing_changed_is_not_stale() -> None:
    assert findings(lambda live: live) == []


def test_untouched_company_changing_is_not_stale() -> None:
    def authorize_waiting(live: dict[str, Company]) -> dict[str, Company]:
        assert "c-wait" not in touched(rich_plan())
        wait = live["c-wait"]
        live["c-wait"] = replace(wait, connections=(replace(wait.connections[0], status="Linked"),))
        return live

    assert findings(authorize_waiting) == []


def _tweak(cid: str, **changes: Any) -> Any:
    def tweak(live: dict[str, Company]) -> dict[str, Company]:
        live[cid] = replace(live[cid], **changes)
        return live

    return tweak


def _conn_status(cid: str, index: int, status: str) -> Any:
    def tweak(live: dict[str, Company]) -> dict[str, Company]:
        company = live[cid]
        conns = list(company.connections)
        conns[index] = replace(conns[index], status=status)
        live[cid] = replace(company, connections=tuple(conns))
        return live

    return tweak


def _delete(cid: str) -> Any:
    def tweak(live: dict[str, Company]) -> dict[str, Company]:
        del live[cid]
        return live

    return tweak


def _appear(uid: str) -> Any:
    def tweak(live: dict[str, Company]) -> dict[str, Company]:
        live["c-twin"] = Company("c-twin", "Twin", None, {OWNER_TAG: OWNER, UID_TAG: uid})
        return live

    return tweak


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
        (_conn_status("c-move", 0, "Unlinked"), "connection m1 (QuickBooks Online) status "),
        (_conn_status("c-left", 1, "Linked"), "connection l2 (Xero) status PendingAuth -> Linked"),
        (_tweak("c-move", connections=()), "connection m2 (Partner Expense) removed"),
        (_delete("c-gone"), 'gone company c-gone "Acme": deleted'),
        (_appear("new"), "with reconcile.owner=expenses-json reconcile.uid=new appeared, where"),
        (_appear("ren"), "a second company c-twin"),
    ],
)
def test_each_change_behind_the_plans_back_is_named(change: Any, expected: str) -> None:
    found = findings(change)
    assert any(expected in f for f in found), found
    assert len({f.split(":")[0] for f in found}) == 1, found  # one company named


def test_a_company_answered_404_is_deleted() -> None:
    saved = load(saved_doc())
    found = stale_findings(saved, live_companies().values(), gone=["c-ren"])
    assert found == ['ren company c-ren "Acme": deleted']


def test_hostile_names_are_escaped_in_findings() -> None:
    found = findings(_tweak("c-ren", name="x\x1b]52;c;AAAA\x07\ny"))
    assert "\x1b" not in found[0] and "\n" not in found[0]


def test_connection_of_a_company_created_elsewhere_is_not_confused() -> None:
    extra = Connection("z9", "Accounting", "Xero", "Linked", "", "", "gbol")
    found = findings(_tweak("c-ren", connections=(*live_companies()["c-ren"].connections, extra)))
    assert found == ['ren company c-ren "Acme": connection z9 (Xero) added, Linked']
