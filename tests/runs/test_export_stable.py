"""Issue 25, case 6: `export --adopt` of a messy fleet (`sandbox seed --messy`) is stable and says
its guesses once, as real subprocesses on a served sandbox: no comment holds a fleet-wide count,
so one customer authorizing changes only that customer's lines of a re-export; warnings end in
one summary by kind on stderr (each one only with --verbose); `expenses: true` guessed for a
customer awaiting authorization is marked as a guess at that customer, and what the guess rests
on is said once."""

from __future__ import annotations

import difflib
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.cli import codat_env, reconcile
from tests.support.messy import served_messy
from tests.support.sandbox_server import sandbox_command

OWNER = "ops"
pytestmark = pytest.mark.slow


@dataclass
class Exported:
    db: Path
    url: str
    tmp: Path

    def export(self, name: str, *flags: str) -> tuple[str, str]:
        out = self.tmp / name
        result = reconcile(
            "export",
            "--owner",
            OWNER,
            "--adopt",
            "--out",
            str(out),
            *flags,
            env=codat_env(self.url),
        )
        assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
        return out.read_text(), result.stderr


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Exported]:
    tmp = tmp_path_factory.mktemp("messy-export-stable")
    with served_messy(tmp, OWNER, 80) as url:
        yield Exported(tmp / "sandbox.db", url, tmp)


def _entry_of(text: str, line_no: int) -> str:
    """The uid of the customer whose block holds line `line_no`: its comments come before its
    `- uid:` line, its keys after."""
    lines = text.splitlines()
    ahead = lines[line_no].startswith(("  #", "  - uid: "))
    order = lines[line_no:] if ahead else reversed(lines[: line_no + 1])
    for line in order:
        if line.startswith("  - uid: "):
            return line.split("uid: ", 1)[1]
    raise AssertionError(f"line {line_no} is in no customer's block")


def test_guesses_are_marked_once_and_no_comment_counts_the_fleet(fleet: Exported) -> None:
    text, stderr = fleet.export("first.yaml")
    comments = [line for line in text.splitlines() if line.lstrip().startswith("# export:")]
    assert comments
    assert not [c for c in comments if re.search(r"\d+ of the \d+", c)], comments
    guesses = [c for c in comments if "expenses: true: awaiting authorization" in c]
    assert guesses and all(c.lstrip().startswith("# export: guess: ") for c in guesses)
    assert "marked `export: guess:`" in text.split("version: 1", 1)[0]  # the header says it once
    # stderr: no warning one by one, one summary by kind at the end, the guess's basis once
    assert "Warning:" not in stderr
    lines = stderr.splitlines()
    assert lines[-1].startswith(f"Exported {text.count('  - uid: ')} customers")
    [start] = [i for i, line in enumerate(lines) if line.startswith("Warnings by kind (")]
    summary = "\n".join(lines[start:-1])
    assert f"{len(guesses):6d}  guess: expenses: true for a customer awaiting" in summary
    assert re.search(
        r"guessed for \d+ customer\(s\) awaiting authorization, because \d+ of the", summary
    )
    assert summary.count("because ") == 1
    _, verbose = fleet.export("verbose.yaml", "--verbose")
    assert verbose.count("Warning: ") >= len(comments)


def test_one_authorization_changes_only_that_customers_lines(fleet: Exported) -> None:
    before, _ = fleet.export("before.yaml")
    guessed_at = next(
        i for i, line in enumerate(before.splitlines()) if "# export: guess: expenses: true" in line
    )
    uid = _entry_of(before, guessed_at)
    authorized = subprocess.run(
        sandbox_command("authorize", "--db", str(fleet.db), "--uid", uid, "--owner", OWNER),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert authorized.returncode == 0, authorized.stderr
    after, _ = fleet.export("after.yaml")
    old, new = before.splitlines(), after.splitlines()
    changed = [
        (tag, i1)
        for tag, i1, _, _, _ in difflib.SequenceMatcher(
            None, old, new, autojunk=False
        ).get_opcodes()
        if tag != "equal"
    ]
    assert changed, "the authorization must show in the re-export"
    assert {_entry_of(before, i1) for _, i1 in changed} == {uid}, changed
    assert len(list(difflib.unified_diff(old, new, lineterm="", n=0))) <= 8
