"""The exact reader: bytes -> plain data with every node's position, by PyYAML.

`parse_exact` composes the file with PyYAML's safe composer (libyaml's C parser when present)
into a node tree and builds plain values from the nodes itself. That keeps the line and column of
every node, finds duplicate keys (PyYAML silently keeps the last), never constructs an object of
an arbitrary type, and bounds alias expansion before anything is expanded. It reads every file
with a problem (the messages need its positions); `fastread` answers for the rest.

The file is YAML 1.1 as PyYAML reads it, with one rule on top: a scalar that YAML 1.1 and YAML 1.2
read differently (yes/no/on/off, 012, 0o17, 1e3, 2024-01-01, ...) is built as an `Ambiguous` value,
which no field of the format accepts, so the user is told to write true/false or to quote it.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from reconcile.desired.document import Ambiguous, Document, Rejected
from reconcile.desired.problems import Problem
from reconcile.desired.yaml11 import YAML12_NOT_STR as _YAML12_NOT_STR

MAX_DEPTH = 64
"""Deepest nesting accepted; the format itself needs 4 levels."""

MAX_EXPANDED_NODES = 2_000_000
"""Absolute cap on nodes after alias expansion."""

EXPANSION_FACTOR = 10
"""Alias expansion may grow a document to at most this many times its distinct nodes."""

_BaseLoader: Any = getattr(yaml, "CSafeLoader", None) if yaml.__with_libyaml__ else None
if _BaseLoader is None:  # pragma: no cover - PyYAML without libyaml
    _BaseLoader = yaml.SafeLoader
_RESOLVERS: dict[str, list[tuple[str, re.Pattern[str]]]] = {
    first: list(resolvers)
    for first, resolvers in yaml.resolver.Resolver.yaml_implicit_resolvers.items()
    if first is not None
}
if None in yaml.resolver.Resolver.yaml_implicit_resolvers:  # pragma: no cover
    raise ImportError("PyYAML's safe resolver has wildcard resolvers: update _Loader.resolve")


class _Loader(_BaseLoader):  # type: ignore[misc]
    """PyYAML's safe loader with the same tag resolution, minus its per-scalar Python overhead.

    Equivalent to `Resolver.resolve` for the safe loader (no path resolvers, no wildcard
    resolvers); the C composer calls it once per node.
    """

    def resolve(self, kind: type[yaml.Node], value: str, implicit: tuple[bool, bool]) -> str:
        if kind is yaml.ScalarNode:
            if implicit[0]:
                for tag, regexp in _RESOLVERS.get(value[:1], ()):
                    if regexp.match(value):
                        return tag
            return _STR
        return _SEQ if kind is yaml.SequenceNode else _MAP


_T = "tag:yaml.org,2002:"
_STR, _BOOL, _INT, _FLOAT, _NULL = _T + "str", _T + "bool", _T + "int", _T + "float", _T + "null"
_MAP, _SEQ, _TIMESTAMP, _MERGE = _T + "map", _T + "seq", _T + "timestamp", _T + "merge"

_TRUE = frozenset({"true", "True", "TRUE"})
_FALSE = frozenset({"false", "False", "FALSE"})
_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
_DECIMAL = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")
_MAX_INT_DIGITS = 100
_KIND = {
    _BOOL: "YAML 1.1 reads it as a boolean and YAML 1.2 as a string",
    _INT: "YAML reads it as a number",
    _FLOAT: "YAML reads it as a number",
    _NULL: "YAML reads it as null",
    _TIMESTAMP: "YAML 1.1 reads it as a date and YAML 1.2 as a string",
    _MERGE: "YAML 1.1 reads it as a merge key",
}
_YAML12_KIND = {
    "n": "null",
    "N": "null",
    "~": "null",
    "t": "a boolean",
    "T": "a boolean",
    "f": "a boolean",
    "F": "a boolean",
}


# ------------------------------------------------------------------------- exact path


def parse_exact(file: str, text: str) -> Document:
    """Compose with PyYAML's safe composer and build plain data from the nodes."""
    doc = Document(file=file, text=text)
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        doc.readable = False
        doc.problems.append(_syntax_problem(file, text, exc))
        return doc
    except yaml.reader.ReaderError as exc:
        doc.readable = False
        before = text[: exc.position]
        line = before.count("\n") + 1
        col = exc.position - (before.rfind("\n") + 1) + 1
        char = exc.character if isinstance(exc.character, str) else chr(exc.character)
        doc.problems.append(
            Problem(
                file,
                line,
                col,
                f"character U+{ord(char):04X} is not allowed in YAML ({exc.reason});"
                " remove it or write it as an escape in a double-quoted string",
            )
        )
        return doc
    except yaml.YAMLError as exc:  # pragma: no cover - unmarked errors are rare
        doc.readable = False
        doc.problems.append(Problem(file, 1, 1, f"YAML error: {exc}"))
        return doc
    except RecursionError:  # pragma: no cover - only PyYAML's pure-Python composer recurses
        doc.readable = False
        doc.problems.append(Problem(file, 1, 1, f"nested deeper than {MAX_DEPTH} levels"))
        return doc
    if root is None:
        doc.readable = False
        doc.problems.append(
            Problem(
                file, 1, 1, "file is empty; expected a mapping with version, owner and customers"
            )
        )
        return doc
    doc.root = root
    builder = _Builder(file)
    over = _check_expansion(root) if "*" in text else None  # no alias, no expansion
    if over is not None:
        doc.readable = False
        doc.problems.append(Problem(file, 1, 1, over))
        return doc
    doc.data = builder.build(root, 0)
    doc.problems.extend(builder.problems)
    return doc


def _syntax_problem(file: str, text: str, exc: yaml.MarkedYAMLError) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    lines = text.splitlines()
    char = lines[line - 1][col - 1 : col] if 0 < line <= len(lines) else ""
    problem = exc.problem or "invalid YAML"
    if char == "\t" or "tab" in problem:
        return Problem(file, line, col, "tab character in indentation; indent YAML with spaces")
    if "duplicate anchor" in (exc.context or ""):
        first = exc.context_mark
        where = f" (first defined at line {first.line + 1})" if first is not None else ""
        return Problem(file, line, col, f"duplicate anchor{where}; give each anchor its own name")
    alias = re.match(r"\*([^\s,\[\]{}]+)", lines[line - 1][col - 1 :]) if char == "*" else None
    if "undefined alias" in problem and alias is not None:
        name = alias.group(1)
        return Problem(
            file, line, col, f"alias '*{name}' is not defined; define '&{name}' before using it"
        )
    message = f"YAML syntax error: {problem}"
    if exc.context:
        ctx_line = f" at line {exc.context_mark.line + 1}" if exc.context_mark is not None else ""
        message += f" ({exc.context}{ctx_line})"
    if "expected a single document" in (exc.context or ""):
        message = "a file holds one YAML document; remove the second '---' document"
    return Problem(file, line, col, message)


def _check_expansion(root: yaml.Node) -> str | None:
    """A message if aliases expand the document beyond the limits (or form a cycle).

    Works on the composed graph, in which an alias is the very node it names, so it costs one
    visit per distinct node: the expanded size is summed, never materialised.
    """
    sizes: dict[int, int] = {}
    visiting: set[int] = set()
    distinct = 0

    def size(node: yaml.Node, depth: int) -> int:
        nonlocal distinct
        key = id(node)
        known = sizes.get(key)
        if known is not None:
            return known
        if key in visiting:
            raise _Cycle
        if isinstance(node, yaml.ScalarNode) or depth > MAX_DEPTH:
            distinct += 1
            sizes[key] = 1
            return 1
        visiting.add(key)
        total = 1
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                total += size(k, depth + 1) + size(v, depth + 1)
        else:
            for item in node.value:
                total += size(item, depth + 1)
        visiting.discard(key)
        distinct += 1
        sizes[key] = total
        return total

    try:
        expanded = size(root, 0)
    except _Cycle:
        return "an alias refers to the node that contains it (a recursive structure); remove it"
    limit = min(MAX_EXPANDED_NODES, max(100_000, EXPANSION_FACTOR * distinct))
    if expanded > limit:
        return (
            f"aliases expand this document to {expanded:,} nodes (from {distinct:,} written);"
            f" the limit is {limit:,}: use fewer or smaller aliases"
        )
    return None


class _Cycle(Exception):
    pass


def _key_message(node: yaml.Node, key: Any) -> str:
    if not isinstance(node, yaml.ScalarNode):
        return "a key must be a plain string, not a list or mapping"
    text = node.value
    if isinstance(key, Rejected):
        return f"key '{text}' must be a plain string"
    if isinstance(key, Ambiguous):
        why = key.reads_as
    else:
        kind = "null" if key is None else "a boolean" if isinstance(key, bool) else "a number"
        why = f"YAML reads it as {kind}"
    return f"key '{text}' must be a string ({why}); quote it: \"{text}\""


class _Builder:
    """Plain values from composed nodes, collecting the problems it meets."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []
        self.memo: dict[int, Any] = {}

    def problem(self, node: yaml.Node, message: str) -> None:
        mark = node.start_mark
        self.problems.append(Problem(self.file, mark.line + 1, mark.column + 1, message))

    def build(self, node: yaml.Node, depth: int) -> Any:
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node)
        known = self.memo.get(id(node), self)
        if known is not self:  # an alias: share the value built for its anchor
            return known
        if depth >= MAX_DEPTH:
            self.problem(node, f"nested deeper than {MAX_DEPTH} levels; the format needs 4")
            value = Rejected("...")
        elif isinstance(node, yaml.MappingNode):
            value = self.mapping(node, depth)
        else:
            value = self.sequence(node, depth)
        self.memo[id(node)] = value
        return value

    def scalar(self, node: yaml.ScalarNode) -> Any:
        tag, text = node.tag, node.value
        if tag == _STR:
            if not node.style and _YAML12_NOT_STR.fullmatch(text):
                kind = _YAML12_KIND.get(text[0], "a number")
                return Ambiguous(text, f"YAML 1.1 reads it as a string and YAML 1.2 as {kind}")
            return text
        if tag == _BOOL:
            if text in _TRUE:
                return True
            if text in _FALSE:
                return False
            return Ambiguous(text, _KIND[_BOOL])
        if tag == _INT and _DECIMAL.fullmatch(text):
            if len(text) > _MAX_INT_DIGITS:  # int() refuses 4,300 digits; no field needs 20
                return Ambiguous(f"{text[:12]}...", "YAML reads it as a very large number")
            return int(text)
        if tag == _NULL and text in _NULLS:
            return None
        if tag in _KIND:
            return Ambiguous(text, _KIND[tag])
        if tag == _T + "value":  # a plain '=': PyYAML's 1.1 "value key" type
            return Ambiguous(
                text, "YAML 1.1 reads a plain '=' as a special value and YAML 1.2 as a string"
            )
        self.unsupported_tag(node)
        return Rejected(text)

    def unsupported_tag(self, node: yaml.Node) -> None:
        shown = node.tag.replace(_T, "!!", 1) if node.tag.startswith(_T) else node.tag
        self.problem(node, f"unsupported YAML tag '{shown}'; remove it (tags are not read)")

    def mapping(self, node: yaml.MappingNode, depth: int) -> Any:
        if node.tag != _MAP:
            self.unsupported_tag(node)
            return Rejected("{...}")
        out: dict[str, Any] = {}
        first: dict[str, yaml.Node] = {}
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag == _MERGE:
                self.problem(
                    key_node, "merge keys (<<) are not supported; put shared values in 'defaults'"
                )
                continue
            key = self.build(key_node, depth + 1)
            if not isinstance(key, str):
                self.problem(key_node, _key_message(key_node, key))
                continue
            if key in first:
                mark = first[key].start_mark
                self.problem(
                    key_node,
                    f"duplicate key '{key}' (first defined at line {mark.line + 1},"
                    f" column {mark.column + 1}); remove one",
                )
                continue
            first[key] = key_node
            out[key] = self.build(value_node, depth + 1)
        return out

    def sequence(self, node: yaml.SequenceNode, depth: int) -> Any:
        if node.tag != _SEQ:
            self.unsupported_tag(node)
            return Rejected("[...]")
        return [self.build(item, depth + 1) for item in node.value]


def yaml11_patterns() -> list[str]:
    """PyYAML's YAML 1.1 implicit resolvers for every tag but str, each `^(?:...)$` (verbose):
    `yaml11.YAML11_NOT_STR_PATTERNS` is a copy of these (a test keeps them equal)."""
    patterns: set[str] = set()
    for resolvers in yaml.resolver.Resolver.yaml_implicit_resolvers.values():
        for tag, regexp in resolvers:
            if tag != _STR:
                patterns.add(regexp.pattern)
    return sorted(patterns)
