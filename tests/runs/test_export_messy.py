"""`export --adopt` on a messy fleet (`sandbox seed --messy`), then plan, as real subprocesses
on a served sandbox: the exported file creates nothing, deletes nothing, writes the live twin,
and every unlink its plan could hold is one the export already named (issue 15, point 6)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.cli import codat_env, reconcile
from tests.support.messy import served_messy

OWNER = "ops"
DESTROYS = ("unlink_connection", "delete_connection", "delete_company")


@pytest.fixture(scope="module")
def adopted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(the exported file's text, export's stderr, the plan of that file as JSON)."""
    tmp = tmp_path_factory.mktemp("messy-export")
    with served_messy(tmp, OWNER, 50) as url:
        out = tmp / "adopted.yaml"
        exported = reconcile(
            "export", "--owner", OWNER, "--adopt", "--out", str(out), env=codat_env(url)
        )
        assert exported.returncode == 0, exported.stderr
        assert "Traceback" not in exported.stderr
        planned = reconcile("plan", str(out), "--format", "json", env=codat_env(url))
        assert planned.returncode == 0, planned.stderr
        yield out.read_text(), exported.stderr, json.loads(planned.stdout)


def _actions(plan: dict[str, Any]) -> list[tuple[str, str]]:
    return [(c["uid"], a["kind"]) for c in plan["changes"] for a in c["actions"]]


def test_the_adopted_file_creates_and_deletes_nothing(
    adopted: tuple[str, str, dict[str, Any]],
) -> None:
    _, _, plan = adopted
    kinds = {kind for _, kind in _actions(plan)}
    assert "create_company" not in kinds and "delete_company" not in kinds
    assert "delete_connection" not in kinds
    assert plan["unsafe"] is None


def test_every_unlink_is_one_the_export_named(adopted: tuple[str, str, dict[str, Any]]) -> None:
    """Until the planner keeps what the file cannot name (issue 15, point 1), the export must
    at least say which connections a plan would unlink, at that customer."""
    text, stderr, plan = adopted
    warned = {line.split(" ", 2)[1] for line in stderr.splitlines() if "plan would unlink" in line}
    unlinked = {uid for uid, kind in _actions(plan) if kind == "unlink_connection"}
    assert unlinked <= warned, (unlinked, warned)
    assert "not a Sync for Expenses platform the file can name" in text


def test_the_adopted_file_plans_no_destroy_at_all(adopted: tuple[str, str, dict[str, Any]]) -> None:
    _, _, plan = adopted
    assert [a for a in _actions(plan) if a[1] in DESTROYS] == []


def test_the_live_twin_is_written_and_intent_is_kept(
    adopted: tuple[str, str, dict[str, Any]],
) -> None:
    text, stderr, plan = adopted
    assert "companies carry reconcile.uid=" in text and "this entry is " in text
    entry_line = next(line for line in text.splitlines() if "this entry is " in line)
    assert "Linked Xero (gbol)" in entry_line.split("; also ")[0]
    assert "an empty twin of" in text and "duplicate of" not in stderr
    assert "duplicate uid: the entry describes one twin" in stderr  # the summary by kind
    assert "untagged companies are named" in text
    assert "export: guess: expenses: true: awaiting authorization of" in text
    # the twin's customer is refused as a duplicate, not planned twice
    assert any("reconcile.uid" in r["reason"] for r in plan["refused"])
