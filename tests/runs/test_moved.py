"""Issue 25, case 8: `moved: [{from, to}]` renames a uid (as Terraform's `moved` block) on a
served messy fleet (`sandbox seed --messy`, `export --adopt`, applied): the company is retagged,
nothing created or unlinked, and the block can be removed once applied. Nonsense is refused."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import codat_env, reconcile
from tests.support.messy import AdoptedFleet, listed_companies

OWNER = "ops"
pytestmark = pytest.mark.slow


class Fleet(AdoptedFleet):
    @property
    def text(self) -> str:
        return self.file.read_text()

    def plan(self, path: Path, *args: str) -> subprocess.CompletedProcess[str]:
        result = reconcile("plan", str(path), "--detailed-exitcode", *args, env=codat_env(self.url))
        assert "Traceback" not in result.stdout + result.stderr, result
        return result

    def plan_json(self, path: Path, *args: str) -> dict[str, Any]:
        result = reconcile("plan", str(path), "--format", "json", *args, env=codat_env(self.url))
        assert result.returncode == 0, result.stderr
        doc: dict[str, Any] = json.loads(result.stdout)
        return doc

    def uid_tags(self) -> dict[str, str]:
        """company id -> reconcile.uid, for this owner."""
        companies = listed_companies(self.url)
        return {
            c["id"]: c["tags"]["reconcile.uid"]
            for c in companies
            if (c.get("tags") or {}).get("reconcile.owner") == OWNER
            and "reconcile.uid" in c["tags"]
        }


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    yield from Fleet.adopted(tmp_path_factory.mktemp("messy-moved"), OWNER)


def _slug(text: str) -> str:
    """An adopted slug uid (`globex-limited-25`), not one of the cus-NNNNN series."""
    return next(
        line.split("uid: ", 1)[1]
        for line in text.splitlines()
        if line.startswith("  - uid: ") and not line.startswith("  - uid: cus-")
    )


def _renamed(text: str, old: str, new: str, *, moved: bool) -> str:
    text = text.replace(f"  - uid: {old}\n", f"  - uid: {new}\n", 1)
    block = f"moved:\n  - from: {old}\n    to: {new}\n" if moved else ""
    return text.replace("customers:\n", block + "customers:\n", 1)


def test_moved_retags_creates_nothing_and_can_be_removed(fleet: Fleet) -> None:
    old, new = _slug(fleet.text), "cus-09001"
    [company_id] = [cid for cid, uid in fleet.uid_tags().items() if uid == old]

    # The control: the edited uid alone is refused as a probable edit, nothing created.
    edited = fleet.write("edited.yaml", _renamed(fleet.text, old, new, moved=False))
    doc = fleet.plan_json(edited, "--target", new)
    assert not doc["changes"] and [r["uid"] for r in doc["refused"]] == [new], doc
    assert f"moved: [{{from: {old}, to: {new}}}]" in doc["refused"][0]["reason"]  # the way out

    moved = fleet.write("moved.yaml", _renamed(fleet.text, old, new, moved=True))
    plan = fleet.plan(moved, "--target", new)
    assert plan.returncode == 2, plan.stderr
    assert f"moved: retags the company reconcile.uid={old} -> {new}" in plan.stdout, plan.stdout
    assert f"~ tag reconcile.uid: {old} -> {new}" in plan.stdout, plan.stdout
    assert "Plan: 0 to create, 1 to update, 0 to unlink, 0 to delete." in plan.stdout
    doc = fleet.plan_json(moved)  # the whole file: the rename is one update, nothing else
    [change] = [c for c in doc["changes"] if c["uid"] == new]
    assert [(a["kind"], a["company_id"]) for a in change["actions"]] == [
        ("update_company", company_id)
    ]
    assert change["actions"][0]["request"]["body"]["tags"]["reconcile.uid"] == new
    assert not [r for r in doc["refused"] if new in (r["uid"], old)], doc["refused"]

    applied = reconcile(
        "apply", str(moved), "--auto-approve", "--target", new, env=codat_env(fleet.url)
    )
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert fleet.uid_tags()[company_id] == new
    for path in (moved, fleet.write("after.yaml", _renamed(fleet.text, old, new, moved=False))):
        after = fleet.plan(path, "--target", new)
        assert after.returncode == 0, after.stdout
        assert "No changes." in after.stdout, after.stdout


def test_a_uid_another_company_holds_is_refused(fleet: Fleet) -> None:
    """Moving cus-00003 onto cus-00005 while both companies exist would give two companies one
    uid: refused, exit 2, nothing written."""
    tags = fleet.uid_tags()
    assert {"cus-00003", "cus-00005"} <= set(tags.values())
    text = fleet.text.replace("  - uid: cus-00003\n", "  - uid: cus-77777\n", 1)
    moved = "moved:\n  - {from: cus-00003, to: cus-00005}\n"
    path = fleet.write("taken.yaml", text.replace("customers:\n", moved + "customers:\n", 1))
    plan = fleet.plan(path, "--target", "cus-00005")
    assert plan.returncode == 2, plan.stdout + plan.stderr
    assert "moved from cus-00003 not applied" in plan.stdout, plan.stdout
    assert "already carries reconcile.uid=cus-00005" in plan.stdout, plan.stdout
    applied = reconcile(
        "apply", str(path), "--auto-approve", "--target", "cus-00005", env=codat_env(fleet.url)
    )
    assert "No changes can be applied, but 1 refused" in applied.stdout, applied.stdout
    assert fleet.uid_tags() == tags


@pytest.mark.parametrize(
    ("moved", "said"),
    [
        ("  - {from: cus-00002, to: cus-00002}\n", "moved from 'cus-00002' to itself"),
        ("  - {from: old-1, to: cus-99999}\n", "moved to 'cus-99999', which is no customer"),
        ("  - {from: cus-00002, to: cus-00004}\n", "moved from 'cus-00002', which is still"),
        ("  - {from: a, to: b}\n  - {from: b, to: cus-00002}\n", "'b' is moved on again"),
        ("  - {from: a, to: cus-00002}\n  - {from: a, to: cus-00004}\n", "'a' is moved twice"),
        ("  - {from: a, to: cus-00002}\n  - {from: b, to: cus-00002}\n", "two moves onto"),
    ],
    ids=["itself", "to-unknown", "from-still-listed", "chain", "twice", "onto-one"],
)
def test_nonsense_is_refused_with_its_place(fleet: Fleet, moved: str, said: str) -> None:
    path = fleet.write(
        "bad.yaml", fleet.text.replace("customers:\n", f"moved:\n{moved}customers:\n", 1)
    )
    result = reconcile("plan", str(path), env=codat_env(fleet.url))
    assert result.returncode == 1, result
    assert f"{path}:" in result.stderr and said in result.stderr, result.stderr
    assert "nothing was sent to Codat" in result.stderr and "Traceback" not in result.stderr
