"""The plan document: JSON round trip, the checksum's coverage, the schema (pure, no I/O)."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from reconcile.model import (
    Company,
    Customer,
    DesiredState,
    LiveState,
)
from reconcile.planner import PlanOptions, make_plan
from reconcile.plans import (
    NOTE_KINDS,
    Action,
    CustomerChange,
    Note,
    Plan,
    Refusal,
)
from reconcile.plans.file import plan_schema, structure_problems
from reconcile.plans.file.decode import PlanFormatError, plan_from_dict
from reconcile.render.plan_json import plan_to_dict
from tests.support.factories import CONFIG, bank_accounts, company, conn

ROOT = Path(__file__).resolve().parents[3]
OWNER = "expenses-json"


def live_companies() -> tuple[Company, ...]:
    """The live companies `rich_plan` plans against."""
    return (
        company("ren", conn("r1", "Linked"), id="c-ren", owner=OWNER),
        company(
            "move", conn("m1", "Linked"), conn("m2", "Linked", "expn"), id="c-move", owner=OWNER
        ),
        company("wait", conn("w1", "PendingAuth"), id="c-wait", owner=OWNER),
        company("cfg", conn("g1", "Linked"), id="c-cfg", owner=OWNER),
        company("gone", id="c-gone", owner=OWNER),
        company("reauth", conn("d1", "Deauthorized"), id="c-reauth", owner=OWNER),
        company("keep", conn("k1", "Linked"), id="c-keep", owner=OWNER),
        company(
            "left",
            conn("l1", "Linked"),
            conn("l2", "PendingAuth", "gbol"),
            id="c-left",
            owner=OWNER,
        ),
    )


def rich_plan(observed_at: str | None = "2026-11-27T10:00:00+00:00") -> Plan:
    """A plan with every kind of action the planner makes and every kind of note."""
    customers = (
        Customer(uid="new", name="New Co", accounting="qhyg", expenses=True, tags={"a": "1"}),
        Customer(uid="ren", name="Renamed <b>|`", accounting="qhyg"),
        Customer(uid="move", name="Acme", accounting="gbol", expenses=False),
        Customer(uid="wait", name="Acme", accounting="qhyg", expenses=True),
        Customer(uid="cfg", name="Acme", accounting="qhyg", expenses=True, expense_config=CONFIG),
        Customer(uid="gone", name="Acme", state="deleted"),
        Customer(uid="reauth", name="Acme", accounting="qhyg"),
        Customer(uid="keep", name="Acme", accounting="gbol", protect=True),
    )
    companies = live_companies()
    live = LiveState(
        owner=OWNER,
        companies=companies,
        expense_configs={"c-cfg": None},
        mapping_options={"c-cfg": bank_accounts(("89", "Current Account"))},
        read_at=observed_at,
        warnings=("a warning",),
        refresh_due={"c-keep": "at risk: no successful sync since 2026-10-01"},
    )
    return make_plan(
        DesiredState(OWNER, customers), live, PlanOptions(allow_delete=True, max_destroy=100)
    )


def test_rich_plan_has_every_kind_of_action_and_note() -> None:
    plan = rich_plan()
    kinds = {a.kind.value for a in plan.actions}
    assert kinds >= {
        "create_company",
        "update_company",
        "delete_company",
        "unlink_connection",
        "delete_connection",
        "create_connection",
        "create_partner_expense",
        "set_expense_config",
        "refresh_data",
    }, kinds
    assert {n.kind for n in plan.notes} >= {"deferred", "awaiting_authorization"}
    assert plan.refused


def test_round_trip_keeps_everything() -> None:
    plan = rich_plan()
    doc = plan_to_dict(plan)
    back = plan_from_dict(json.loads(json.dumps(doc)))
    assert plan_to_dict(back) == doc
    assert back.changes == plan.changes
    assert sorted(back.notes, key=repr) == sorted(plan.notes, key=repr)
    assert (back.refused, back.warnings, back.observed_at) == (
        plan.refused,
        plan.warnings,
        plan.observed_at,
    )


@pytest.mark.parametrize(
    ("cls", "serialised"),
    [
        (Action, lambda d: d["changes"][0]["actions"][0]),
        (CustomerChange, lambda d: d["changes"][0]),
        (Note, lambda d: d["deferred"][0]),
        (Refusal, lambda d: d["refused"][0]),
        (Plan, lambda d: d),
    ],
)
def test_every_field_is_serialised(cls: type, serialised: Any) -> None:
    """A field added to the plan model must reach the document (and so the saved plan)."""
    doc = serialised(plan_to_dict(rich_plan()))
    # `Plan.linked` (which companies have a Linked accounting connection) decides what a renderer
    # may show of a fresh plan; it is never saved, so a plan read back shows no company id.
    implied = {"kind"} if cls is Note else {"notes", "linked"} if cls is Plan else set()
    missing = {f.name for f in dataclasses.fields(cls)} - set(doc) - implied
    assert not missing, f"{cls.__name__} fields missing from the plan document: {missing}"


def test_every_note_kind_has_its_list() -> None:
    doc = plan_to_dict(rich_plan())
    for kind in NOTE_KINDS:
        assert isinstance(doc[kind], list)


def test_checksum_ignores_observed_at_only() -> None:
    one = plan_to_dict(rich_plan("2026-11-27T10:00:00+00:00"))
    two = plan_to_dict(rich_plan("2026-11-27T11:30:00+00:00"))
    assert one["observed_at"] != two["observed_at"]
    assert one["checksum"] == two["checksum"]
    edited = json.loads(json.dumps(one))
    edited["changes"][0]["actions"][0]["request"]["body"]["name"] = "Other"
    assert plan_to_dict(plan_from_dict(edited))["checksum"] != one["checksum"]


@pytest.mark.parametrize("observed_at", [None, "2026-11-27T10:00:00+00:00"])
def test_planner_output_validates_against_the_schema(observed_at: str | None) -> None:
    assert structure_problems(plan_to_dict(rich_plan(observed_at))) == []
    assert structure_problems(plan_to_dict(Plan(owner=OWNER))) == []


def test_schema_rejects_what_is_not_a_plan() -> None:
    doc = plan_to_dict(rich_plan())
    doc["changes"][0]["actions"][0]["kind"] = "drop_database"
    doc["surprise"] = 1
    problems = structure_problems(doc)
    assert any("drop_database" in p for p in problems), problems
    assert any("surprise" in p for p in problems), problems


@pytest.mark.parametrize(
    "breakage",
    [
        lambda d: d.pop("owner"),
        lambda d: d["changes"][0].update(verdict="explode"),
        lambda d: d["changes"][0]["actions"][0].update(kind="nope"),
        lambda d: d.update(warnings=[1]),
    ],
)
def test_from_dict_refuses_malformed_documents(breakage: Any) -> None:
    doc = plan_to_dict(rich_plan())
    breakage(doc)
    with pytest.raises(PlanFormatError):
        plan_from_dict(doc)


@pytest.mark.slow
def test_the_wheel_ships_the_plan_schema(tmp_path: Path) -> None:
    dist, target = tmp_path / "dist", tmp_path / "site"
    pip = [sys.executable, "-m", "pip"]
    subprocess.run(
        [*pip, "wheel", "--no-deps", "-q", "-w", str(dist), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = dist.glob("codat_reconcile-*.whl")
    assert "reconcile/schemas/plan.schema.json" in zipfile.ZipFile(wheel).namelist()
    subprocess.run(
        [*pip, "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    probe = (
        "import reconcile.plans.file as s, pathlib; "
        "print(pathlib.Path(s.__file__).is_relative_to(pathlib.Path('site').resolve()), "
        "s.plan_schema()['title'])"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(target)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.split() == ["True", "codat-reconcile", "plan"], result.stderr


def test_every_schema_field_is_documented() -> None:
    doc = (ROOT / "docs" / "plan-json.md").read_text()
    schema = plan_schema()

    def names(node: Any) -> set[str]:
        found: set[str] = set()
        if isinstance(node, dict):
            found |= set(node.get("properties", {}))
            for value in node.values():
                found |= names(value)
        elif isinstance(node, list):
            for value in node:
                found |= names(value)
        return found

    missing = sorted(n for n in names(schema) if f"`{n}`" not in doc)
    assert not missing, f"fields of plan.schema.json not in docs/plan-json.md: {missing}"
