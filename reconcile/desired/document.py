"""One desired-state file as read: its text, its plain data, and (exact reader) its node tree.

Shared by both readers (`yamlload`: PyYAML, exact; `fastread`: JSON and yaml-rs, happy path) and
free of PyYAML at import time, so the happy path never loads it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reconcile.desired.problems import Problem

if TYPE_CHECKING:
    import yaml

MAX_FILE_BYTES = 20 * 1024 * 1024
"""Files larger than this are refused before they are read."""


@dataclass(frozen=True)
class Ambiguous:
    """A scalar that YAML 1.1 and YAML 1.2 read differently; no field accepts it."""

    text: str
    reads_as: str  # e.g. "YAML 1.1 reads it as a boolean and YAML 1.2 as a string"

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Rejected:
    """A value already reported as a problem by the reader (e.g. an unsupported tag)."""

    text: str


@dataclass
class Document:
    """One file as read: plain data, and the node tree for positions (exact reader only)."""

    file: str
    text: str
    data: Any = None
    root: yaml.Node | None = None  # PyYAML is imported by the exact reader only
    problems: list[Problem] = field(default_factory=list)
    readable: bool = True  # False: nothing could be read (missing, syntax error, empty, ...)
    exact: bool = True  # False: read by the fast path, no node tree

    # --------------------------------------------------------------- positions

    def node_at(self, path: tuple[Any, ...]) -> tuple[yaml.Node | None, yaml.Node | None]:
        """The (key node, value node) at `path`; (None, root) for the empty path."""
        node = self.root
        if node is None:  # read by a fast path: no positions (the caller re-reads exactly)
            return None, None
        import yaml

        key_node: yaml.Node | None = None
        for step in path:
            if isinstance(node, yaml.MappingNode):
                for k, v in node.value:
                    if isinstance(k, yaml.ScalarNode) and k.value == step:
                        key_node, node = k, v
                        break
                else:
                    return key_node, node
            elif isinstance(node, yaml.SequenceNode) and isinstance(step, int):
                if step >= len(node.value):
                    return key_node, node
                key_node, node = None, node.value[step]
            else:
                return key_node, node
        return key_node, node

    def position(self, path: tuple[Any, ...], *, at_key: bool = False) -> tuple[int, int]:
        """1-based (line, col) of the value at `path` (or of its key when `at_key`)."""
        key_node, node = self.node_at(path)
        target = key_node if (at_key and key_node is not None) else node
        if target is None:
            return 1, 1
        return target.start_mark.line + 1, target.start_mark.column + 1


# ------------------------------------------------------------------------- files


def read_text(file: str, path: Path) -> tuple[str | None, Problem | None]:
    """The file's text, or the problem that prevents reading it (size checked before reading)."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        return None, Problem(file, 1, 1, f"cannot read file: {exc.strerror or exc}")
    if size > MAX_FILE_BYTES:
        return None, Problem(
            file,
            1,
            1,
            f"file is {size / 1024 / 1024:.1f} MB; the limit is {MAX_FILE_BYTES // 1024 // 1024} MB"
            " (split the customers across several files in a directory)",
        )
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return None, Problem(file, 1, 1, f"cannot read file: {exc.strerror or exc}")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line_start = raw.rfind(b"\n", 0, exc.start) + 1
        line = raw.count(b"\n", 0, exc.start) + 1
        col = len(raw[line_start : exc.start].decode("utf-8", "replace")) + 1
        return None, Problem(
            file,
            line,
            col,
            f"file is not UTF-8: byte 0x{raw[exc.start]:02x} is invalid here;"
            " save the file as UTF-8",
        )
    return text, None
