"""reconcile.plans.file, pure: building, signing, reading strictly and verifying a saved plan."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from reconcile.model import Customer, DesiredState
from reconcile.plans import Kind
from reconcile.plans.file import (
    MAX_PLAN_BYTES,
    SavedPlan,
    SavedPlanError,
    SigningKey,
    build,
    check_account,
    configured,
    customer_digest,
    desired_record,
    dumps,
    looks_like_plan,
    parse,
    snapshot,
    structure_problems,
    touched,
    verify,
)
from reconcile.plans.file.document import canonical
from reconcile.render.plan_json import plan_to_dict, render_plan_json
from tests.plans.file.test_saved_json import OWNER, rich_plan
from tests.plans.file.test_saved_json import live_companies as rich_live

KEY = SigningKey(b"k" * 32, "test key")
OTHER = SigningKey(b"o" * 32, "other key")
URL = "https://api.codat.io"
ACCOUNT = "Acme Expenses Ltd"
FILES = [("customers.yaml", b"version: 1\n")]
MADE = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


def saved_doc(key: SigningKey = KEY, max_age: timedelta = timedelta(days=7)) -> dict[str, Any]:
    plan = rich_plan()
    live = {c.id: c for c in rich_live()}
    with_config = configured(plan)
    return build(
        plan,
        key=key,
        account=ACCOUNT,
        base_url=URL,
        tool_version="9.9.9",
        desired=desired_record(FILES, DesiredState(OWNER, ()), [c.uid for c in plan.changes]),
        seen={
            cid: snapshot(live[cid], None, with_config=cid in with_config) for cid in touched(plan)
        },
        now=MADE,
        max_age=max_age,
    )


def resign(doc: dict[str, Any], key: SigningKey = KEY) -> dict[str, Any]:
    doc["checksum"] = key.mac(canonical(doc))
    return doc


def load(doc: dict[str, Any], key: SigningKey | None = KEY) -> SavedPlan:
    return parse(dumps(doc).encode(), "plan.json", key)


def check(saved: SavedPlan, now: datetime = MADE) -> None:
    verify(saved, base_url=URL, now=now, source="plan.json")


def test_saved_document_validates_and_records_account_expiry_and_config() -> None:
    doc = saved_doc()
    assert structure_problems(doc) == []
    assert doc["account"] == ACCOUNT and doc["key_id"] == KEY.key_id != OTHER.key_id
    assert doc["expires_at"] == "2026-12-04T10:00:00+00:00"
    assert set(doc["seen"]) == set(touched(rich_plan()))
    assert doc["seen"]["c-cfg"]["expense_config"] is None
    assert "expense_config" not in doc["seen"]["c-ren"]
    assert "k" * 32 not in dumps(doc)


def test_round_trip_verifies() -> None:
    saved = load(saved_doc())
    check(saved)
    check_account(saved, ACCOUNT, "plan.json")
    assert plan_to_dict(saved.plan)["changes"] == plan_to_dict(rich_plan())["changes"]


def test_another_signing_key_is_told_apart_from_an_edit() -> None:
    with pytest.raises(SavedPlanError, match="signed with another signing key"):
        load(saved_doc(), OTHER)


@pytest.mark.parametrize(
    "edit",
    [
        lambda d: d["changes"][0]["actions"][0]["after"].update(name="Evil"),
        lambda d: d["seen"][next(iter(d["seen"]))].update(name="Other"),
        lambda d: d.update(base_url="https://evil.example"),
        lambda d: d.update(account="Another account"),
        lambda d: d.update(observed_at="2020-01-01T00:00:00+00:00"),
        lambda d: d.update(expires_at="2099-01-01T00:00:00+00:00"),
        lambda d: d["changes"].pop(),
        lambda d: d["desired"]["customers"].update(ren="sha256:" + "0" * 64),
    ],
)
def test_any_edit_is_refused_observed_at_and_expiry_included(edit: Any) -> None:
    doc = json.loads(dumps(saved_doc()))
    edit(doc)
    with pytest.raises(SavedPlanError, match="edited after it was saved"):
        load(doc)


def test_the_signature_is_checked_before_the_schema() -> None:
    doc = json.loads(dumps(saved_doc()))
    doc["changes"] = "not even a list"
    with pytest.raises(SavedPlanError, match="edited after it was saved"):
        load(doc)
    with pytest.raises(SavedPlanError, match="not a valid plan file"):
        load(resign(doc))


def test_another_base_url_another_account_and_expiry_are_refused() -> None:
    saved = load(saved_doc())
    with pytest.raises(SavedPlanError, match=r'made against "https://api.codat.io"'):
        verify(saved, base_url="https://other", now=MADE, source="plan.json")
    with pytest.raises(SavedPlanError, match=r'account "Acme Expenses Ltd".*belongs to.*"Other"'):
        check_account(saved, "Other", "plan.json")
    check(saved, MADE + timedelta(days=6, hours=23))
    with pytest.raises(SavedPlanError, match=r"expired at 2026-12-04 10:00 UTC.*--max-age"):
        check(saved, MADE + timedelta(days=7))
    short = load(saved_doc(max_age=timedelta(hours=1)))
    with pytest.raises(SavedPlanError, match="expired"):
        check(short, MADE + timedelta(hours=2))


def test_a_signed_rename_that_carries_a_delete_is_refused_as_edited() -> None:
    doc = json.loads(dumps(saved_doc()))
    update = next(a for c in doc["changes"] for a in c["actions"] if a["kind"] == "update_company")
    update["request"] = {
        "method": "DELETE",
        "path": f"/companies/{update['company_id']}",
        "body": None,
    }
    saved = load(resign(doc))  # validly signed: whoever holds the key made it
    with pytest.raises(SavedPlanError, match=r"was edited: what it would send.*DELETE"):
        check(saved)


@pytest.mark.parametrize(
    "edit",
    [
        lambda a: a["request"]["body"].update(platformKey="gbol"),
        lambda a: a.update(subject="accounting connection Xero (gbol)"),
        lambda a: a["request"].update(path="/companies/c-gone/connections"),
    ],
)
def test_a_create_connection_must_send_what_it_shows(edit: Any) -> None:
    doc = json.loads(dumps(saved_doc()))
    create = next(
        a for c in doc["changes"] for a in c["actions"] if a["kind"] == "create_connection"
    )
    edit(create)
    with pytest.raises(SavedPlanError, match="was edited"):
        check(load(resign(doc)))


def test_unknown_format_version_is_refused_before_anything_else() -> None:
    doc = saved_doc()
    doc["format_version"] = "2"
    with pytest.raises(SavedPlanError, match=r'format_version "2" is unknown.*reconcile 9\.9\.9'):
        load(doc)


def test_printed_plan_is_recognised_and_refused_with_the_way_to_save_one() -> None:
    raw = render_plan_json(rich_plan()).encode()
    assert looks_like_plan(raw[:4096])
    with pytest.raises(SavedPlanError, match="--out"):
        parse(raw, "p.json", KEY)
    assert not looks_like_plan(b"version: 1\nowner: x\ncustomers: []\n")
    assert not looks_like_plan(b'{"version": 1}')


# ---------------------------------------------------------------------- strict reading


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b'{"format_version": "1", "format_version": "1"}', 'duplicate key "format_version"'),
        (b'{"format_version": "1", "owner": "\\ud800"}', "lone surrogate"),
        (b'{"format_version": "1", "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "nested"),
        (b'{"format_version": "1", "x": ' + b"[" * 30 + b"]" * 30 + b"}", "nested deeper"),
        (b"\xff\xfe{}", "not UTF-8"),
        (b'{"format_version": ', "not JSON"),
    ],
    ids=["duplicate", "surrogate", "deep", "deeper-than-a-plan", "utf8", "truncated"],
)
def test_hostile_json_is_refused_in_one_line(raw: bytes, expected: str) -> None:
    with pytest.raises(SavedPlanError, match=expected) as caught:
        parse(raw, "p.json", KEY)
    assert "\n" not in str(caught.value)


def test_oversized_content_is_refused_unparsed() -> None:
    with pytest.raises(SavedPlanError, match="larger than 16 MB"):
        parse(b" " * (MAX_PLAN_BYTES + 1), "p.json", KEY)


# ---------------------------------------------------------------------- file staleness


def test_a_customer_digest_ignores_layout_and_sees_meaning() -> None:
    one = Customer(uid="a", name="A", tags={"x": "1", "y": "2"})
    assert customer_digest(one) == customer_digest(
        Customer(uid="a", name="A", tags={"y": "2", "x": "1"})
    )
    assert customer_digest(one) != customer_digest(Customer(uid="a", name="A", tags={"x": "1"}))
    assert customer_digest(None) is None


def test_every_action_kind_is_in_the_rich_plan() -> None:
    assert {a.kind for a in rich_plan().actions} == set(Kind)
