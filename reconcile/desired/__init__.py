"""The desired-state files: YAML -> validated `DesiredState`, every problem with file:line:col.

    state = load(["customers/"])          # raises InvalidInput listing every problem
    checked = check(["customers/"])       # the same checks; checked.build() is load()'s model
    text = dump(state)                    # YAML that load() reads back to an equal model
    schema_text()                         # the JSON Schema of the format

See the README's "The desired-state file" for the format and schemas/customers.schema.json
for its structure.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reconcile.bulk import paused_gc
from reconcile.desired import fastread
from reconcile.desired.checks import cross_checks
from reconcile.desired.document import Document, read_text
from reconcile.desired.dump import dump
from reconcile.desired.problems import InvalidInput, Issue, Problem
from reconcile.desired.schema import schema_text, structure_issues

if TYPE_CHECKING:
    from reconcile.desired.build import Locate
    from reconcile.model import DesiredState

__all__ = ["Checked", "InvalidInput", "Problem", "check", "dump", "load", "schema_text"]

YAML_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class Checked:
    """Files that passed every check, not yet built into the model: what a run may start from
    while it reads Codat (the owner is known; building 100,000 customers takes seconds).
    `build()` once: the files' text and plain data are let go as the model is built."""

    owner: str
    files: tuple[str, ...]
    customer_count: int
    declares_environments: bool
    configured: int  # entries with an expenseConfig (what a plan of every customer may read)
    docs: list[Document] = field(repr=False)

    @classmethod
    def of(cls, docs: Sequence[Document]) -> Checked:
        return cls(
            owner=next((d.data["owner"] for d in docs if d.data["owner"]), ""),
            files=tuple(d.file for d in docs),
            customer_count=sum(len(d.data["customers"]) for d in docs),
            declares_environments=any(d.data.get("environments") for d in docs),
            configured=sum(1 for d in docs for c in d.data["customers"] if "expenseConfig" in c),
            docs=list(docs),
        )

    def build(self) -> DesiredState:
        """The model, as `load` returns it (once)."""
        if not self.docs:
            raise RuntimeError("the checked files were built already")
        docs = self.docs[:]
        self.docs.clear()
        with paused_gc():
            return _build(docs, release=True)


def load(paths: Sequence[str | Path]) -> DesiredState:
    """Read, validate and merge the desired-state files at `paths`.

    A path is a file (any name) or a directory (its `*.yaml` and `*.yml` files, sorted by name, not
    recursive). Raises InvalidInput with every problem of every file when anything is wrong.
    """
    return check(paths).build()


def check(paths: Sequence[str | Path]) -> Checked:
    """Read and validate the files at `paths` as `load` does (the same InvalidInput), without
    building the model yet."""
    with paused_gc():  # 100,000 customers' plain data holds no cycles
        return _check(paths)


def _check(paths: Sequence[str | Path]) -> Checked:
    if isinstance(paths, str | Path):  # one path given bare: not a sequence of characters
        paths = [paths]
    files, problems = _expand(paths)
    texts: list[tuple[str, str]] = []
    for shown, path in files:
        text, problem = read_text(shown, path)
        if problem is not None:
            problems.append(problem)
        elif text is not None:
            texts.append((shown, text))

    # The fast reader answers for the files it is sure about; any problem anywhere and every file
    # is read (again) by the exact reader, whose positions the messages need.
    docs = [fastread.parse_fast(shown, text) or parse_exact(shown, text) for shown, text in texts]
    clean = not problems and all(doc.readable and not doc.problems for doc in docs)
    if clean and not _validate_quietly(docs):
        return Checked.of(docs)
    docs = [doc if doc.exact else parse_exact(doc.file, doc.text) for doc in docs]
    for doc in docs:
        problems.extend(doc.problems)
    for index, issue in _validate(docs):
        doc = docs[index]
        line, col = doc.position(issue.path, at_key=issue.at_key)
        problems.append(Problem(doc.file, line, col, issue.message))
    if problems:
        raise InvalidInput(problems)
    return Checked.of(docs)  # pragma: no cover - the exact reader found what the fast did


def _expand(paths: Sequence[str | Path]) -> tuple[list[tuple[str, Path]], list[Problem]]:
    """The files to read, as (shown name, path), and the problems of paths that are not there."""
    files: list[tuple[str, Path]] = []
    problems: list[Problem] = []
    seen: set[str] = set()
    if not paths:
        problems.append(Problem(".", 1, 1, "no desired-state file or directory given"))

    def add(shown: str, path: Path) -> None:
        real = os.path.realpath(path)
        if real not in seen:
            seen.add(real)
            files.append((shown, path))

    for given in paths:
        shown, path = str(given), Path(given)
        if path.is_dir():
            try:
                names = sorted(
                    entry.name
                    for entry in path.iterdir()
                    if entry.name.endswith(YAML_SUFFIXES) and entry.is_file()
                )
            except OSError as exc:
                problems.append(Problem(shown, 1, 1, f"cannot read directory: {exc.strerror}"))
                continue
            if not names:
                problems.append(
                    Problem(shown, 1, 1, "directory has no *.yaml or *.yml files (not recursive)")
                )
            for name in names:
                add(os.path.join(shown, name), path / name)
        elif path.exists():
            add(shown, path)
        else:
            problems.append(Problem(shown, 1, 1, "no such file or directory"))
    return files, problems


def _validate(docs: Sequence[Document]) -> list[tuple[int, Issue]]:
    """Every issue of the readable documents: each file's structure, then the cross-file checks."""
    found: list[tuple[int, Issue]] = []
    for index, doc in enumerate(docs):
        if doc.readable:
            found.extend((index, issue) for issue in structure_issues(doc.data))
    found.extend(cross_checks(docs))
    return found


def _validate_quietly(docs: Sequence[Document]) -> bool:
    """Whether `docs` have any issue; on data from the fast reader an error counts as one (the
    exact reader then reads everything again and reports)."""
    try:
        return bool(_validate(docs))
    except Exception:
        if all(doc.exact for doc in docs):
            raise
        return True


def _build(docs: Sequence[Document], *, release: bool = False) -> DesiredState:
    """The model of checked documents; with `release` (the documents are not used again), each
    text goes after its uid scan and the model holds none of their data (`build_state`).
    The builder is imported here: a run starts reading Codat before it builds (and a bad file
    never does)."""
    from reconcile.desired.build import build_state

    entries: list[tuple[str, Any, Locate]] = []
    for doc in docs:
        exact = doc
        if not doc.exact:
            spots = fastread.uid_positions(doc.text, [c["uid"] for c in doc.data["customers"]])
            if spots is not None:
                entries.append((doc.file, doc.data, _at(spots)))
                if release:
                    doc.text = ""  # 14 MB at 100,000 customers, not needed again
                continue
            exact = parse_exact(doc.file, doc.text)  # uids not found by the quick scan

        def locate(i: int, doc: Document = exact) -> tuple[int, int]:
            return doc.position(("customers", i, "uid"), at_key=True)

        entries.append((doc.file, doc.data, locate))
    return build_state(entries, release=release)


def parse_exact(file: str, text: str) -> Document:
    """The exact reader (PyYAML, imported here: a file the fast readers answer for never needs
    it)."""
    from reconcile.desired.yamlload import parse_exact as exact

    return exact(file, text)


def _at(spots: list[tuple[int, int]]) -> Locate:
    def locate(index: int) -> tuple[int, int]:
        return spots[index]

    return locate
