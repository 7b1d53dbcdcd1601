"""Colour only on a terminal and never with NO_COLOR."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TextIO

_CODES = {"green": "32", "yellow": "33", "red": "31", "bold": "1", "dim": "2", "cyan": "36"}


@dataclass(frozen=True)
class Style:
    enabled: bool = False

    @classmethod
    def for_stream(cls, stream: TextIO) -> Style:
        if "NO_COLOR" in os.environ:
            return cls(False)
        isatty = getattr(stream, "isatty", None)
        return cls(bool(isatty and isatty()))

    def __call__(self, text: str, *names: str) -> str:
        if not self.enabled or not names:
            return text
        codes = ";".join(_CODES[n] for n in names)
        return f"\033[{codes}m{text}\033[0m"
