"""The fast readers: plain data for the files they are sure about, or None for the exact reader.

`parse_fast` is a happy-path accelerator with two engines. Each answers only when it is sure to
give what `yamlload.parse_exact` (PyYAML) would; otherwise it returns None and the caller reads
the file exactly. Neither reports problems: any file with a problem is read again exactly, for
the positions its messages need.

* A file that is a JSON object is read by the stdlib `json` (a JSON text is YAML, and JSON's
  strings are YAML's double-quoted strings), unless it holds what the two read differently:
  duplicate keys (JSON keeps the last; the format refuses them), a floating-point number, NaN or
  Infinity (YAML 1.1 reads `1e3` as a string; no field takes a float), a surrogate escape (JSON
  pairs them, PyYAML does not), a key longer than PyYAML's 1024-character simple-key limit or a
  line break between a key and its colon (PyYAML refuses both), or characters YAML reads as line
  breaks or refuses (tab, NEL, U+2028, U+2029, BOM, lone CR, non-printables).
* Any other file, block or flow style, is read by `yaml-rs` (YAML 1.2, optional) when it keeps to
  the plain subset (no tags, anchors, block scalars, directives, ...), every string in it is also
  a string in YAML 1.1, and `version: 1` is written as a plain `1`.

This module does not import PyYAML: a valid file read here never loads it.
"""

from __future__ import annotations

import importlib
import json
import os
import re
from itertools import accumulate, repeat
from typing import Any

from reconcile.desired.document import Document
from reconcile.desired.yaml11 import agrees_with_yaml11

_UNSET: Any = object()
_yaml_rs: Any = _UNSET  # the yaml_rs module, None when absent (or switched off by tests)


# yaml-rs allocates with its own mimalloc, which keeps what it frees for later (purged after a
# delay, on its next allocation: never, after the one parse a run does). Purged at once, the
# ~90 MB its parser needs for 100,000 customers go back to the system as soon as the parse
# returns. Read by mimalloc when yaml-rs loads; an operator's own setting stands.
MIMALLOC_PURGE_DELAY = "MIMALLOC_PURGE_DELAY"


def _rs() -> Any:
    """yaml_rs, imported on first use (a JSON file never needs it)."""
    global _yaml_rs
    if _yaml_rs is _UNSET:
        os.environ.setdefault(MIMALLOC_PURGE_DELAY, "0")
        try:
            _yaml_rs = importlib.import_module("yaml_rs")
        except ImportError:  # pragma: no cover - depends on the environment
            _yaml_rs = None
    return _yaml_rs


def fast_available() -> bool:
    """Whether yaml-rs is installed (JSON files are read fast either way)."""
    return _rs() is not None


def parse_fast(file: str, text: str) -> Document | None:
    """Plain data from a fast reader, or None when the exact reader must decide."""
    if _non_printable(text) or ("\r" in text and _LONE_CR.search(text)):
        return None
    if text.lstrip(" \r\n").startswith("{"):
        data = _json_data(text)
        if data is not None:
            return Document(file=file, text=text, data=data, exact=False)
    return _yaml_rs_document(file, text)


# ------------------------------------------------------------------------- JSON

# Characters YAML reads as line breaks or refuses, surrogate escapes, a line break (or a long run
# of spaces) between a key and its colon: JSON and PyYAML would not agree.
# Each is a substring search (C speed), not a regex tried at every character.
_JSON_UNSAFE_CHARS = ("\t", "\x85", "\u2028", "\u2029", "\ufeff")
_JSON_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")
_JSON_LONG_GAP = '"' + " " * 64
_JSON_LF_COLON = re.compile(r"\n[ \r\n]*:")
_JSON_CR_COLON = re.compile(r"\r[ \r\n]*:")
_MAX_JSON_KEY = 128
"""Longer keys are left to PyYAML (its simple-key limit is 1,024 characters written; no key of
the format is longer than 27)."""


class _NotTheSame(Exception):
    """JSON would read this file differently from PyYAML."""


# A string written longer than any key may be: from each quote, a run of characters without
# one (a string is read no longer than it is written).
_JSON_LONG_STRING = re.compile(f'"[^"]{{{_MAX_JSON_KEY + 1}}}')


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    mapping = dict(pairs)
    if len(mapping) != len(pairs) or max(map(len, mapping), default=0) > _MAX_JSON_KEY:
        raise _NotTheSame
    return mapping


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """`_pairs` for a text with no string longer than a key may be (`_short_strings`)."""
    mapping = dict(pairs)
    if len(mapping) != len(pairs):
        raise _NotTheSame
    return mapping


def _short_strings(text: str) -> bool:
    """Whether no string of `text` can be a key too long (`_MAX_JSON_KEY`): none is written
    longer (without a backslash, no escaped quote splits a string's run), ~3 ms on 10,000
    customers, where measuring every key read costs ~10."""
    return "\\" not in text and _JSON_LONG_STRING.search(text) is None


def _not_the_same(text: str) -> Any:
    raise _NotTheSame


def _json_unsafe(text: str) -> bool:
    if any(char in text for char in _JSON_UNSAFE_CHARS) or _JSON_LONG_GAP in text:
        return True
    if "\\u" in text and _JSON_SURROGATE.search(text):
        return True
    # A raw line break cannot be inside a JSON string, so one followed (after spaces) by a colon
    # lies between a key and its colon, which PyYAML refuses. (Each regex starts on a literal.)
    if _JSON_LF_COLON.search(text):
        return True
    return "\r" in text and _JSON_CR_COLON.search(text) is not None


def _json_data(text: str) -> dict[str, Any] | None:
    if _json_unsafe(text):
        return None
    try:
        data = json.loads(
            text,
            object_pairs_hook=_unique_pairs if _short_strings(text) else _pairs,
            parse_float=_not_the_same,
            parse_constant=_not_the_same,
        )
    except (ValueError, RecursionError, _NotTheSame):  # JSONDecodeError is a ValueError
        return None
    return data if isinstance(data, dict) else None


# ------------------------------------------------------------------------- yaml-rs

# Syntax the fast path leaves to the exact reader: tabs, YAML 1.1 line breaks, BOM, directives and
# document markers, tags, anchors and aliases, complex keys, merge keys, block scalars.
_FAST_UNSAFE_CHARS = ("\t", "\x85", "\u2028", "\u2029", "\ufeff")
_FAST_UNSAFE_LINE_STARTS = ("%", "---", "...")  # directives, document markers
_MARKER_LINE = re.compile(r"\n(?:%|---|\.\.\.)")  # one search from each line break (~1 ms)


def _marker_line(text: str) -> bool:
    """Whether a line starts with a directive or a document marker."""
    return text.startswith(_FAST_UNSAFE_LINE_STARTS) or _MARKER_LINE.search(text) is not None


# Indicators that start no plain scalar (tags, anchors, aliases, complex keys, block scalars,
# directives and the reserved @ and `), where a node may start: at a line's start, after ': ',
# '- ' or '? ', or in flow after '[', '{' or ','. Inside a scalar they are text ("Smith & Sons").
# An `&` or `*` followed by a space or a line break names no anchor or alias: where a node starts
# both readers refuse it, and at the start of a continued plain scalar's next line (a long name
# folded by a YAML writer: "Hooli Consulting\n  & Co") both read it as text.
# As one regex: (?:^[ ]*|[:?-][ ]+|[\[{,][ ]*)(?:[!?|>%@`]|[&*](?![ \r\n]|$)) (re.M), tried at
# every character (30-60 ms on 10,000 customers); `_unsafe_token` finds each indicator by a
# substring search (C: most files hold none but a few "&" in names; a character class tried
# at every character took ~4 ms) and looks back from each (~0.3 ms).
_INDICATORS = "!?|>%@`&*"


def _unsafe_token(text: str) -> bool:
    """Whether an indicator starts a node (the rule above)."""
    for indicator in _INDICATORS:
        at = text.find(indicator)
        while at != -1:
            if _starts_node(text, at):
                return True
            at = text.find(indicator, at + 1)
    return False


def _starts_node(text: str, at: int) -> bool:
    """Whether the indicator at `at` is where a node starts (and, for `&` or `*`, names an
    anchor or an alias)."""
    if text[at] in "&*" and text[at + 1 : at + 2] in ("", " ", "\r", "\n"):
        return False  # names no anchor or alias
    before = at - 1
    while before >= 0 and text[before] == " ":
        before -= 1
    return before < 0 or text[before] in "\n[{," or (text[before] in ":?-" and before < at - 1)


_FAST_UNSAFE_COLON = re.compile(r":(?:[^\s\w/.-]|(?<![^\s\[\]{},]:)\S)")
# What YAML refuses raw: every character but TAB, LF, CR, 0x20-0x7E, NEL, 0xA0-0xD7FF,
# 0xE000-0xFFFD and the planes above (written as its complement: a negated class over those
# ranges costs ~6 ms to compile, this one nothing).
_NON_PRINTABLE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufffe\uffff]"
)
_ASCII_PRINTABLE = bytes([0x09, 0x0A, 0x0D, *range(0x20, 0x7F)])


def _non_printable(text: str) -> bool:
    """Whether `text` holds a character YAML refuses raw (`_NON_PRINTABLE`); for ASCII text by
    deleting the allowed bytes in C (a regex over 3 MB costs ~30 ms, this ~2 ms)."""
    if text.isascii():
        return bool(text.encode("ascii").translate(None, _ASCII_PRINTABLE))
    return _NON_PRINTABLE.search(text) is not None


_LONE_CR = re.compile(r"\r(?!\n)")
_ESCAPES = re.compile(r"\\[uUxN0-9]")
# Every place `version` is written as a key; the one there is must be followed by a plain 1.
_VERSION_KEY = re.compile(r"""version(["']?)[ ]*:[ ]*""")  # the literal first: a quick scan
_PLAIN_ONE = re.compile(r"1[ ]*(?:[,}\r\n]|#|$)")
# Starts with the literal `uid` so the regex engine can skip ahead quickly; an opening quote is
# checked by hand (group 1 is the closing one).
_UID_KEY = re.compile(r"""uid(["']?)[ ]*:[ ]*(["']?)([A-Za-z0-9._-]+)\2[ ]*(?=[,}#\r\n]|$)""", re.M)


def _fast_unsafe(text: str) -> bool:
    """Whether `text` uses syntax that the fast path leaves to the exact reader."""
    if any(marker in text for marker in _FAST_UNSAFE_CHARS):  # single characters: memchr
        return True
    if "<" in text and "<<" in text:  # a merge key (a search for "<<" itself costs ~1 ms)
        return True
    if "\\" in text and _ESCAPES.search(text):
        return True  # numeric escapes (surrogate pairs...) are decoded differently
    if _marker_line(text):
        return True
    if _unsafe_token(text):
        return True
    return _FAST_UNSAFE_COLON.search(text) is not None


def _yaml_rs_document(file: str, text: str) -> Document | None:
    """yaml-rs's reading of a file in the plain subset whose every string is also a string in
    YAML 1.1 and whose only integer, `version: 1`, is written as a plain 1."""
    rs = _rs()
    if rs is None or _fast_unsafe(text):
        return None
    try:
        data = rs.loads(text, parse_datetime=False)
    except (KeyboardInterrupt, SystemExit):  # pragma: no cover
        raise
    except BaseException:  # any error, a Rust panic included: the exact reader will say
        return None
    if not isinstance(data, dict) or not agrees_with_yaml11(data):
        return None
    if "version" in data and not (
        type(data["version"]) is int and data["version"] == 1 and _version_plain(text)
    ):
        return None  # 1.0, 0o1, 0x1, 01 are 1 to yaml-rs, not to the exact reader
    return Document(file=file, text=text, data=data, exact=False)


def _version_plain(text: str) -> bool:
    """Whether `version` is written as a key exactly once, as `version: 1` (any quoting of the
    key, any style), the 1 plain."""
    ends: list[int] = []
    for match in _VERSION_KEY.finditer(text):
        start, quote = match.start(), match.group(1)
        if quote:  # "version" or 'version': the key starts at its opening quote
            start -= 1
            if start < 0 or text[start] != quote:
                continue
        if start and (text[start - 1].isalnum() or text[start - 1] in "_.'\"-"):
            continue  # part of a longer word
        ends.append(match.end())
    return len(ends) == 1 and _PLAIN_ONE.match(text, ends[0]) is not None


# ------------------------------------------------------------------------- positions


def uid_positions(text: str, uids: list[str]) -> list[tuple[int, int]] | None:
    """For a fast read: where each customer's `uid` key is written (1-based line, col), in any
    style (`uid: a`, `{uid: a}`, `"uid": "a"`).

    None unless a quick scan finds exactly these uids, in this order (anything unusual, such as a
    description mentioning "uid: x", leaves the positions to the exact reader).
    """
    spots: list[int] = []
    found: list[str] = []
    for match in _UID_KEY.finditer(text):
        offset = match.start()
        quote = match[1]
        if quote:  # "uid" or 'uid': the key starts at its opening quote
            offset -= 1
            if offset < 0 or text[offset] != quote:
                continue
        if offset and text[offset - 1] not in " {,-\n":
            continue  # part of a longer word
        spots.append(offset)
        found.append(match[3])
    if found != uids:
        return None
    # Lines and columns by C calls mapped over the spots, each searching only the text since the
    # uid before (one-line JSON: no rescans): the line breaks there, summed, and the last one
    # there, carried on while a uid has none before it on its line.
    since = [0, *spots[:-1]]
    lines = accumulate(map(text.count, repeat("\n"), since, spots), initial=1)
    next(lines)
    breaks = accumulate(map(text.rfind, repeat("\n"), since, spots), max)
    return [(line, at - before) for line, at, before in zip(lines, spots, breaks, strict=True)]
