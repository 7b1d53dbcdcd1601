"""The corpus of bad inputs: every file (or directory) under bad/ and its exact problems.

bad.expected holds, per input, the problems `load` must report: full strings, in order. A corpus
entry without a section there fails, so no bad input goes untested.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from reconcile.desired import InvalidInput, load

HERE = Path(__file__).parent


def _sections() -> dict[str, list[str]]:
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in (HERE / "bad.expected").read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            current = sections.setdefault(line[3:], [])
        elif line and not line.startswith("#") and current is not None:
            current.append(line)
    return sections


EXPECTED = _sections()


def _problems(path: str) -> list[str]:
    with pytest.raises(InvalidInput) as caught:
        load([path])
    return [str(p) for p in caught.value.problems]


@pytest.mark.parametrize("path", sorted(EXPECTED))
def test_bad_input_reports_exactly(path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(HERE)
    assert _problems(path) == EXPECTED[path]


def test_every_corpus_entry_has_expectations() -> None:
    entries = {f"bad/{name}" for name in os.listdir(HERE / "bad")}
    assert entries == set(EXPECTED)
    assert len(entries) >= 40


def test_corpus_covers_every_kind_of_problem() -> None:
    text = "\n".join(line for lines in EXPECTED.values() for line in lines)
    for phrase in [
        "YAML syntax error",
        "tab character in indentation",
        "file is not UTF-8",
        "file is empty",
        "the file must be a mapping",
        "unknown key",
        "did you mean",
        "must be true or false",
        "quote it",
        "duplicate key",
        "is defined twice",
        "is invalid: use 1-64",
        "characters Codat would strip",
        "must not be empty",
        "user tags; at most 8",
        "with defaults.tags merged",
        "Codat allows at most 27",
        "is reserved",
        "Codat allows at most 100",
        "expenseConfig needs an accounting platform",
        "state: deleted is not allowed with protect: true",
        "unsupported version",
        "aliases expand this document",
        "unknown accounting platform",
        "differs from owner",
        "missing required key",
        "unsupported YAML tag",
        "merge keys (<<) are not supported",
        "recursive structure",
        "one YAML document",
        "is not allowed in YAML",
        "alias '*company' is not defined",
        "holds a line break (U+000A)",
        "holds an escape character (U+001B)",
        "holds a DEL character (U+007F)",
        "whitespace other than a plain space",
        "a customer with protect: true has at most 7",
        "to itself; remove this entry",
        "which is no customer of the files",
        "which is still a customer of the files",
        "is moved on again",
        "is moved twice",
        "two moves onto",
    ]:
        assert phrase in text, phrase


def test_multi_file_problems_name_both_places(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(HERE)
    [dup] = _problems("bad/multi-duplicate-uid")
    assert dup.startswith("bad/multi-duplicate-uid/b.yaml:6:10: ")
    assert "bad/multi-duplicate-uid/a.yaml:4:10" in dup
    # The same files given one by one report the same problem.
    with pytest.raises(InvalidInput) as caught:
        load(["bad/multi-duplicate-uid/a.yaml", "bad/multi-duplicate-uid/b.yaml"])
    assert [str(p) for p in caught.value.problems] == [dup]


def test_problems_of_several_paths_are_reported_together(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(HERE)
    with pytest.raises(InvalidInput) as caught:
        load(["bad/expenses-yes.yaml", "bad/description-no.yaml", "bad/nope.yaml"])
    shown = [str(p) for p in caught.value.problems]
    assert shown == [
        "bad/description-no.yaml:4:10: uid 'cus-0001' is defined twice: here and at"
        " bad/expenses-yes.yaml:4:10; each customer needs its own uid",
        *EXPECTED["bad/description-no.yaml"],
        *EXPECTED["bad/expenses-yes.yaml"],
        "bad/nope.yaml:1:1: no such file or directory",
    ]
