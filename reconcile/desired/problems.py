"""Problems found in desired-state files, and the exception that carries them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with the input, at a 1-based line and column of a file.

    The file is the path as the user gave it (a relative path stays relative). Problems that concern
    a whole file (missing, empty, too large) are reported at 1:1.
    """

    file: str
    line: int
    col: int
    message: str

    def __str__(self) -> str:
        return f"{_printable(self.file)}:{self.line}:{self.col}: {_printable(self.message)}"


def _printable(shown: str) -> str:
    """`shown` as it is, or, when it holds anything unprintable (a hostile value quoted in a
    message, a file name with a line break), escaped visibly by the renderers' one escaper."""
    if shown.isprintable():
        return shown
    from reconcile.escape import text

    return text(shown)


def sort_problems(problems: Iterable[Problem]) -> list[Problem]:
    """Deduplicated, ordered by file, then line, then column (then message)."""
    return sorted(set(problems))


class InvalidInput(Exception):
    """The desired-state input is invalid; `.problems` lists every problem found, in order."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: list[Problem] = sort_problems(problems)
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        lines = "\n".join(map(str, self.problems))
        super().__init__(f"{count} {noun} in the desired state:\n{lines}")
