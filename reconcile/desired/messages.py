"""The words of every structural problem: what is wrong, at which field, and what to write instead.

Messages show the user's values with repr() or inside quotes; `Problem.__str__` escapes anything
unprintable that still reaches a message, so a hostile value can never reach a terminal raw.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from typing import Any

from reconcile.desired.document import Ambiguous
from reconcile.desired.problems import Issue
from reconcile.model import (
    MAX_TAG_KEY,
    MAX_USER_TAGS,
    MAX_USER_TAGS_PROTECTED,
    PLATFORM_ALIASES,
    PLATFORMS,
    PROTECT_TAG,
    RESERVED_TAG_PREFIX,
)

NAME_ALLOWED = re.compile(r"[A-Za-z0-9 \-',&@.?!]")
"""One character of a Codat company name; the only whitespace is a plain space."""

CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
"""C0 controls, DEL and C1 controls: no string of the file may hold one."""

_KIND_WORDS = {
    "string": "a string",
    "boolean": "true or false",
    "integer": "an integer",
    "number": "a number",
    "object": "a mapping",
    "array": "a list",
    "null": "null",
}


def label(path: tuple[Any, ...]) -> str:
    if not path:
        return "the file"
    last = path[-1]
    if isinstance(last, int):
        return "each customer" if path[-2:-1] == ("customers",) else f"item {last + 1}"
    if in_tags(path):
        return f"tag '{last}'"
    return f"'{last}'"


def in_tags(path: tuple[Any, ...]) -> bool:
    return len(path) >= 2 and path[-2] == "tags" and isinstance(path[-1], str)


def noun(path: tuple[Any, ...]) -> str:
    """What the mapping at `path` is, in words."""
    if not path:
        return "the top level"
    if path == ("defaults",):
        return "defaults"
    if len(path) == 2 and path[0] == "customers":
        return "customer"
    if len(path) == 2 and path[0] == "moved" and isinstance(path[1], int):
        return f"moved entry {path[1] + 1}"
    last = path[-1]
    if path[0] == "defaults" and isinstance(last, str):
        return f"defaults.{last}"
    return str(last)


def describe(value: Any) -> str:
    if isinstance(value, Ambiguous):
        return f"'{value.text}' ({value.reads_as})"
    if isinstance(value, bool):
        return f"a boolean ({'true' if value else 'false'})"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return f"the string {value!r}" if len(value) <= 40 else "a string"
    if value is None:
        return "an empty value"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__  # pragma: no cover


def _scalar_text(value: Any) -> str | None:
    if isinstance(value, Ambiguous):
        return value.text
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return None


def type_message(path: tuple[Any, ...], value: Any, expected: Any) -> str:
    kinds = [expected] if isinstance(expected, str) else list(expected)
    what = label(path)
    if not path:
        return (
            f"the file must be a mapping with version, owner and customers, got {describe(value)}"
        )
    if "boolean" in kinds:
        quoted = isinstance(value, str) and value.casefold() in ("true", "false")
        quotes = " (without quotes)" if quoted else ""
        return f"{what} must be true or false, got {describe(value)}; write true or false{quotes}"
    if "string" in kinds and path[-1:] == ("refreshDataEvery",):
        return (
            f"policy refreshDataEvery must be a period with its unit, got {describe(value)};"
            " write e.g. 1d, 12h or 2w (units: w, d, h; combine as 1d12h)"
        )
    if "string" in kinds:
        text = _scalar_text(value)
        hint = f'; quote it: "{text}"' if text is not None else ""
        if value is None:
            return f"{what} must be a string, got an empty value"
        return f"{what} must be a string, got {describe(value)}{hint}"
    if "object" in kinds:
        return f"{what} must be a mapping (key: value), got {describe(value)}"
    if "array" in kinds:
        return f"{what} must be a list (items starting with '- '), got {describe(value)}"
    words = " or ".join(_KIND_WORDS.get(k, k) for k in kinds)  # pragma: no cover
    return f"{what} must be {words}, got {describe(value)}"  # pragma: no cover


def missing_message(path: tuple[Any, ...], key: str) -> str:
    if not path:
        return f"the file is missing required top-level key '{key}'"
    return f"{noun(path)} is missing required key '{key}'"


def suggest(word: str, options: list[str] | tuple[str, ...]) -> str | None:
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if not close:
        close = difflib.get_close_matches(word.casefold(), options, n=1, cutoff=0.6)
    if not close and len(word) >= 3:
        close = [o for o in options if o.startswith(word.casefold())][:1]
    return close[0] if close else None


def unknown_key_message(path: tuple[Any, ...], key: str, known: list[str]) -> str:
    where = noun(path)
    near = suggest(key, known)
    if near is not None:
        return f"unknown key '{key}' in {where}; did you mean '{near}'?"
    return f"unknown key '{key}' in {where}; expected one of: {', '.join(known)}"


def platform_choices() -> str:
    aliases = ", ".join(alias for p in PLATFORMS for alias in p.aliases)
    return f"{aliases}; or a 4-letter key: {', '.join(p.key for p in PLATFORMS)}"


def enum_message(path: tuple[Any, ...], value: Any, allowed: Any) -> str:
    field = path[-1] if path else ""
    shown = value.text if isinstance(value, Ambiguous) else value
    if field == "version":
        if isinstance(value, int) and not isinstance(value, bool):
            return f"unsupported version {value}; this reconcile reads version 1"
        return f"'version' must be the number 1, got {describe(value)}; write version: 1"
    if field == "keep":
        return (
            f"accounting keep must be true, got {describe(value)}; to manage the accounting"
            " connection, name its platform instead (accounting: xero)"
        )
    if field == "accounting":
        if isinstance(value, str) and value.strip().casefold() in PLATFORM_ALIASES:
            return (
                f"accounting platform '{value}' must be written in lowercase:"
                f" '{value.strip().casefold()}'"
            )
        if not isinstance(value, str):
            return (
                f"'accounting' must be a platform name or key, or {{keep: true}} to leave the"
                f" company's accounting connection as it is; got {describe(value)};"
                f" valid: {platform_choices()}"
            )
        near = suggest(value, list(PLATFORM_ALIASES))
        hint = f"did you mean '{near}'? " if near else ""
        return f"unknown accounting platform '{value}'; {hint}valid: {platform_choices()}"
    if path[-2:-1] == ("auto",) and path[:1] == ("policy",):
        return auto_message(shown, allowed)
    options = [o for o in (allowed if isinstance(allowed, list) else [allowed]) if o is not None]
    near = suggest(str(shown), [str(o) for o in options]) if isinstance(shown, str) else None
    hint = f"; did you mean '{near}'?" if near else ""
    got = f"'{shown}'" if isinstance(shown, str) else describe(value)
    return f"{label(path)} must be one of {', '.join(map(str, options))}, got {got}{hint}"


def bad_name_chars(name: str) -> list[str]:
    seen: list[str] = []
    for char in name:
        if not NAME_ALLOWED.fullmatch(char) and char not in seen:
            seen.append(char)
    return seen


def pattern_message(path: tuple[Any, ...], value: str) -> str:
    field = path[-1] if path else ""
    if CONTROL.search(value):
        shown = {"name": "name", "uid": "uid", "owner": "owner"}.get(str(field), label(path))
        return control_message(shown, value)
    if field == "name" and not bad_name_chars(value):
        if not value.strip():
            return "name must not be blank"
        return (
            f"name {value!r} has leading or trailing spaces, which Codat trims;"
            f" write {value.strip()!r}"
        )
    if field == "name":
        spaces = [c for c in bad_name_chars(value) if c.isspace()]
        if spaces:
            which = ", ".join(f"{c!r} (U+{ord(c):04X} {unicodedata.name(c, '')})" for c in spaces)
            return (
                f"name {value!r} has whitespace other than a plain space: {which};"
                " a name allows a literal space only: replace it with ' '"
            )
        bad = ", ".join(repr(c) for c in bad_name_chars(value))
        return (
            f"name {value!r} has characters Codat would strip: {bad};"
            " use letters A-Z, digits, spaces and - ' , & @ . ? ! only"
        )
    if path[:1] == ("moved",) and field in ("from", "to"):
        field = f"moved {field}"  # a uid, old or new
    if field in ("uid", "owner", "moved from", "moved to") and value == "":
        return f"{field} must not be empty"
    if field in ("uid", "owner", "moved from", "moved to"):
        return (
            f"{field} {value!r} is invalid: use 1-64 letters, digits, '.', '_' or '-',"
            " starting with a letter or digit"
        )
    if field == "id":
        return (
            f"'id' must be a Codat company id (a UUID such as"
            f" 77921ff9-3ec0-4a5b-9a55-0b5f4e1d2c3a), got {value!r}"
        )
    if field == "refreshDataEvery":
        return (
            f"policy refreshDataEvery {value!r} is not a period: write a positive number and a"
            " unit, e.g. 1d, 12h or 2w (units: w, d, h; combine as 1d12h)"
        )
    return f"{label(path)} {value!r} has an invalid format"  # pragma: no cover


_CONTROL_NAMES = {
    "\n": "a line break",
    "\r": "a carriage return",
    "\t": "a tab",
    "\x1b": "an escape character",
    "\x00": "a NUL character",
    "\x7f": "a DEL character",
    "\x85": "a next-line character",
}


def control_message(what: str, value: str) -> str:
    """`what` (e.g. "'description'") holds a C0/DEL/C1 control character: which, where, and what
    to do. Such a character in a name or a description could forge lines of a plan on a terminal
    or reach the terminal itself (escape sequences)."""
    found = CONTROL.search(value)
    index = found.start() if found else 0
    char = value[index]
    kind = _CONTROL_NAMES.get(char, "a control character")
    one_line = " and write the text on one line" if char in "\n\r\x85" else ""
    return (
        f"{what} holds {kind} (U+{ord(char):04X}) at character {index + 1}; no string in the"
        f" file may hold control characters: remove it{one_line}"
    )


def tag_key_message(key: str, keyword: str) -> str:
    if keyword == "pattern" and CONTROL.search(key):
        return control_message(f"tag key {key!r}", key)
    if keyword == "pattern":
        return (
            f"tag key '{key}' is reserved: keys starting with '{RESERVED_TAG_PREFIX}'"
            " are set by reconcile itself"
        )
    if keyword == "minLength":
        return "tag key must not be empty"
    return f"tag key '{key}' is {len(key)} characters; Codat allows at most {MAX_TAG_KEY}"


def too_many_tags_message(count: int, *, protected: bool = False, merged: bool = False) -> str:
    """`count` user tags are more than Codat's 10 tags leave (`merged`: counted with defaults.tags;
    `protected`: the customer has protect: true, whose company carries a third reconcile tag)."""
    what = "user tags with defaults.tags merged" if merged else "user tags"
    if protected:
        extra = count - MAX_USER_TAGS_PROTECTED
        return (
            f"{count} {what}; a customer with protect: true has at most"
            f" {MAX_USER_TAGS_PROTECTED} (Codat allows 10 tags a company and reconcile uses 3:"
            f" reconcile.owner, reconcile.uid and {PROTECT_TAG}); remove {extra}"
            f" tag{'s' if extra != 1 else ''}"
        )
    return (
        f"{count} {what}; at most {MAX_USER_TAGS} are allowed (Codat allows 10 tags a"
        " company and reconcile uses 2: reconcile.owner and reconcile.uid)"
    )


# ------------------------------------------------------------------------- environments

_ENV_NAME_RULE = (
    "use 1-32 lowercase letters, digits, '_' or '-', starting with a letter ('all' is reserved)"
)
_OVERRIDABLE = "accounting, expenseConfig, tags, state and protect"


def environment_message(
    path: tuple[Any, ...], keyword: str, value: Any, schema_path: Any
) -> Issue | None:
    """The words for a problem in `environments:`, `promote:` or a customer's `environments:`
    and `overrides:`; None for anything else (or what the general words already say well)."""
    top = path[:1] if path[:1] in (("environments",), ("promote",)) else ()
    customer = path[2:3] if path[:1] == ("customers",) else ()
    where = top or customer
    if where not in (("environments",), ("promote",), ("overrides",)):
        return None
    names = list(schema_path)
    if "propertyNames" in names:
        return Issue(
            (*path, value), f"environment name {value!r} is invalid: {_ENV_NAME_RULE}", True
        )
    field = path[-1] if path else ""
    if keyword == "additionalProperties" and where == ("overrides",) and len(path) == 4:
        extra = sorted(k for k in value if k not in _OVERRIDABLE_KEYS)
        shown = ", ".join(repr(k) for k in extra)
        return Issue(
            (*path, extra[0]),
            f"{shown} cannot be overridden per environment: only {_OVERRIDABLE} can;"
            " set it on the customer itself",
            True,
        )
    if keyword in ("pattern", "not") and isinstance(field, int):
        return Issue(path, f"environment name {value!r} is invalid: {_ENV_NAME_RULE}")
    if keyword in ("pattern", "maxLength") and field == "api_key_env":
        return Issue(
            path,
            f"api_key_env {value!r} is invalid: name CODAT_API_KEY or CODAT_API_KEY_<NAME>"
            " (capitals, digits and '_', at most 64 characters, without _FILE: that is"
            " appended to find a key file), e.g. CODAT_API_KEY_PROD",
        )
    if keyword == "pattern" and field == "base_url":
        return Issue(
            path, f"base_url {value!r} is invalid: write an http(s) URL, e.g. https://api.codat.io"
        )
    if keyword == "uniqueItems":
        return Issue(path, f"{label(path)} names an environment twice: list each once")
    if keyword in ("minItems", "minProperties"):
        return Issue(path, f"{label(path)} is empty: name at least one environment, or remove it")
    return None


_OVERRIDABLE_KEYS = frozenset({"accounting", "expenseConfig", "tags", "state", "protect"})


DESTRUCTIVE_WORDS = ("unlink", "delete", "offboard", "destroy", "remove", "prune")


def auto_message(value: Any, allowed: list[str]) -> str:
    """A `policy.auto` entry that is not an additive kind; unlinks and deletes never are."""
    choices = ", ".join(allowed)
    if isinstance(value, str) and any(w in value.casefold() for w in DESTRUCTIVE_WORDS):
        return (
            f"policy.auto cannot list '{value}': converge and watch apply only additive changes, "
            "and every unlink or delete waits for a reviewed apply; remove it "
            f"(allowed: {choices})"
        )
    if not isinstance(value, str):
        return f"policy.auto lists {describe(value)}; write kinds by name: {choices}"
    near = suggest(value, allowed)
    hint = f"did you mean '{near}'? " if near else ""
    return f"unknown policy.auto kind '{value}'; {hint}allowed: {choices}"
