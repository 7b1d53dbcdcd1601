"""Whether a yaml-rs reading (YAML 1.2) means what PyYAML's (YAML 1.1) would: every string in
it is a string in YAML 1.1 too (`agrees_with_yaml11`), checked by jsonschema-rs in Rust.

Holds the rule's pieces shared with the exact reader: the strings YAML 1.2 reads as something
else (`YAML12_NOT_STR`) and PyYAML's implicit resolvers, copied (`YAML11_NOT_STR_PATTERNS`).
"""

from __future__ import annotations

import functools
import re
from typing import Any

# What YAML 1.2's core schema reads as something other than a string.
YAML12_NOT_STR = re.compile(
    r"""(?:null|Null|NULL|~
    |true|True|TRUE|false|False|FALSE
    |[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+
    |[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?
    |[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)""",
    re.X,
)

YAML11_NOT_STR_PATTERNS = (
    "^(?: ~\n                    |null|Null|NULL\n                    | )$",
    "^(?:!|&|\\*)$",
    "^(?:<<)$",
    "^(?:=)$",
    "^(?:[-+]?(?:[0-9][0-9_]*)\\.[0-9_]*(?:[eE][-+][0-9]+)?\n"
    "                    |\\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?\n"
    "                    |[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\\.[0-9_]*\n"
    "                    |[-+]?\\.(?:inf|Inf|INF)\n"
    "                    |\\.(?:nan|NaN|NAN))$",
    "^(?:[-+]?0b[0-1_]+\n"
    "                    |[-+]?0[0-7_]+\n"
    "                    |[-+]?(?:0|[1-9][0-9_]*)\n"
    "                    |[-+]?0x[0-9a-fA-F_]+\n"
    "                    |[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$",
    "^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]\n"
    "                    |[0-9][0-9][0-9][0-9] -[0-9][0-9]? -[0-9][0-9]?\n"
    "                     (?:[Tt]|[ \\t]+)[0-9][0-9]?\n"
    "                     :[0-9][0-9] :[0-9][0-9] (?:\\.[0-9]*)?\n"
    "                     (?:[ \\t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$",
    "^(?:yes|Yes|YES|no|No|NO\n"
    "                    |true|True|TRUE|false|False|FALSE\n"
    "                    |on|On|ON|off|Off|OFF)$",
)
"""PyYAML's YAML 1.1 implicit resolvers for every tag but str (verbose regexes), copied so this
module needs no PyYAML; a test keeps the copy equal to PyYAML's own."""
YAML11_FIRST_CHARS = "!&*+-.0123456789<=FNOTYfnoty~"
"""The first characters PyYAML registers those resolvers for (and the empty string, for null)."""


def _unanchored(pattern: str) -> str:
    stripped = pattern.strip()
    if not (stripped.startswith("^") and stripped.endswith("$")):  # pragma: no cover
        raise ValueError(f"unexpected resolver pattern {pattern!r}")
    return stripped[1:-1]


def _plain(pattern: str) -> str:
    """A verbose regex (re.X) without its layout: the whitespace outside character classes
    dropped, as re.X reads it (no pattern here has a comment), for a regex engine without a
    verbose mode."""
    if "#" in pattern:  # pragma: no cover - a comment would need more than this
        raise ValueError(f"unexpected comment in {pattern!r}")
    kept: list[str] = []
    in_class = escaped = False
    for char in pattern:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char.isspace():
            continue
        kept.append(char)
    return "".join(kept)


def yaml11_rule() -> dict[str, Any]:
    """The JSON Schema of a string that YAML 1.1 (PyYAML) reads as a string when plain, or
    that YAML 1.2 would not read as a string when plain either (so it was quoted): no resolver
    of another tag matches it whole, or it is no string in YAML 1.2 (`YAML12_NOT_STR`).

    PyYAML tries a resolver only on the first characters it is registered for (the empty
    string: null's); each pattern starts with those only, so the patterns alone say it. No
    lookaround: without one, jsonschema-rs matches with the `regex` crate's automata (3x faster
    than its backtracking engine here), and its `$` is the end of the string only."""
    not_str_11 = "|".join(f"(?:{_plain(_unanchored(p))})" for p in YAML11_NOT_STR_PATTERNS)
    return {
        "anyOf": [
            {"not": {"pattern": f"^(?:{not_str_11})$"}},
            {"pattern": f"^(?:{_plain(YAML12_NOT_STR.pattern)})$"},
        ]
    }


@functools.cache
def _check() -> Any:
    """jsonschema-rs' check of every string of plain data, keys included, against
    `yaml11_rule` (compiled on first use, ~0.5 ms: JSON files never need it)."""
    import jsonschema_rs

    node = {
        "if": {"type": "string"},
        "then": {"$ref": "#/$defs/string"},
        "else": {
            "items": {"$ref": "#/$defs/node"},
            "additionalProperties": {"$ref": "#/$defs/node"},
            "propertyNames": {"$ref": "#/$defs/string"},
        },
    }
    schema = {"$defs": {"node": node, "string": yaml11_rule()}, "$ref": "#/$defs/node"}
    return jsonschema_rs.validator_for(schema).is_valid


def agrees_with_yaml11(data: Any) -> bool:
    """Whether every string in `data` (read as YAML 1.2) is also a string in YAML 1.1.

    A string that YAML 1.2 would read as something else when plain (like "89") must have been
    quoted, so it is a string in YAML 1.1 too. A string that only YAML 1.1 reads as something else
    (yes, 1_000, 2024-01-01) may have been plain: the exact reader decides. Keys are strings too
    (a key of another type, or anything jsonschema-rs cannot take, leaves the file to the exact
    reader; the schema refuses them).

    The strings are checked by jsonschema-rs, in Rust, against `yaml11_rule` (a test holds it
    to the rule written in Python): the walk and the matches cost ~10 ms on 10,000 customers,
    where rendering the data as JSON and searching it cost ~25 ms.
    """
    try:
        return bool(_check()(data))
    except (ValueError, TypeError, OverflowError, RecursionError):
        return False
