"""The JSON Schema: the single source of the format's structure, and its errors as plain words.

Validation has two engines over the same schema document:

* `is_valid` is jsonschema-rs (compiled in Rust, imported on first use). It decides the happy
  path quickly.
* jsonschema's Draft202012Validator (compiled once, imported only then) runs only when
  jsonschema-rs says no, on the parts that failed, and its errors become `Issue`s with
  operator-friendly messages (`messages.py`): jsonschema-rs' own errors do not word them so.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reconcile.desired.document import Rejected
from reconcile.desired.problems import Issue

if TYPE_CHECKING:
    import jsonschema

SCHEMA_NAME = "customers.schema.json"

Check = Callable[[Any], bool]


# ------------------------------------------------------------------------- the schema text


def schema_text() -> str:
    """The JSON Schema, from the installed package or, in a source checkout, the repository."""
    here = Path(__file__).resolve().parent
    packaged = here.parent / "schemas" / SCHEMA_NAME  # the wheel ships it inside the package
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    return (here.parents[1] / "schemas" / SCHEMA_NAME).read_text(encoding="utf-8")


@functools.cache
def schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(schema_text())
    return loaded


@functools.cache
def validator() -> Any:
    """jsonschema's validator for the whole document (typed Any: jsonschema's own types vary).

    jsonschema is imported here, on the first problem, never on the happy path."""
    import jsonschema

    return jsonschema.Draft202012Validator(schema())


@functools.cache
def _customer_validator() -> Any:
    return validator().evolve(schema=schema()["properties"]["customers"]["items"])


@functools.cache
def _customer_check() -> Check:
    root = schema()
    return _fast_check({**root["properties"]["customers"]["items"], "$defs": root["$defs"]})


@functools.cache
def is_valid() -> Check:
    return _fast_check(schema())


def _fast_check(node: dict[str, Any]) -> Check:
    """jsonschema-rs' verdict on `node` (`for_automata`); False also for a value it cannot take
    (a `Rejected` or `Ambiguous` left by the reader), so jsonschema then words what is wrong."""
    import jsonschema_rs

    check = jsonschema_rs.validator_for(for_automata(node)).is_valid

    def valid(data: Any) -> bool:
        try:
            return check(data)
        except (ValueError, TypeError):
            return False

    return valid


# The end of a string, and only there, in a pattern both engines read alike (Python's `$`
# also matches before a final line break); at a pattern's end, the `regex` crate's `$`.
_END = "(?![\\s\\S])"
# A pattern that starts by refusing a prefix: `^(?!PREFIX)REST`.
_REFUSED_PREFIX = re.compile(r"\^\(\?!([^()]*)\)(.*)", re.S)


def for_automata(node: Any) -> Any:
    """`node` with its patterns meaning the same to jsonschema-rs without lookaround, which it
    then matches with the `regex` crate's automata, not its backtracking engine (16 -> 7 ms on
    10,000 customers): a final `(?![\\s\\S])` becomes `$`, and `^(?!PREFIX)REST` the pattern
    `^REST` with `not: {pattern: ^PREFIX}`. The schema document itself keeps the portable form
    (jsonschema, Python's `re`, words the problems); tests hold the two verdicts equal."""
    if isinstance(node, list):
        return [for_automata(item) for item in node]
    if not isinstance(node, dict):
        return node
    rewritten = {key: for_automata(value) for key, value in node.items()}
    pattern = rewritten.get("pattern")
    if isinstance(pattern, str):
        if pattern.endswith(_END) and pattern.count(_END) == 1:
            pattern = rewritten["pattern"] = pattern[: -len(_END)] + "$"
        refused = _REFUSED_PREFIX.fullmatch(pattern)
        if refused is not None and "(?" not in refused.group(2):
            prefix, rest = refused.groups()
            del rewritten["pattern"]
            rewritten["allOf"] = [
                *rewritten.get("allOf", []),
                {"pattern": "^" + rest},
                {"not": {"pattern": "^" + prefix}},
            ]
    return rewritten


# ------------------------------------------------------------------------- issues


def structure_issues(data: Any) -> list[Issue]:
    """Every structural issue of one file's plain data; [] when the schema accepts it."""
    if is_valid()(data):
        return []
    issues: list[Issue] = []
    customers = data.get("customers") if isinstance(data, dict) else None
    if isinstance(customers, list):
        top = validator().iter_errors({**data, "customers": []})
        issues.extend(_issues(top, ()))
        check_customer = _customer_check()
        for index, customer in enumerate(customers):
            if not check_customer(customer):
                errors = _customer_validator().iter_errors(customer)
                issues.extend(_issues(errors, ("customers", index)))
    else:
        issues.extend(_issues(validator().iter_errors(data), ()))
    return issues


def _issues(
    errors: Iterator[jsonschema.ValidationError], prefix: tuple[Any, ...]
) -> Iterator[Issue]:
    for error in errors:
        yield from _translate(error, prefix)


def _translate(error: jsonschema.ValidationError, prefix: tuple[Any, ...]) -> Iterator[Issue]:
    from reconcile.desired.messages import (  # the words are needed only when something is wrong
        enum_message,
        environment_message,
        in_tags,
        label,
        missing_message,
        pattern_message,
        tag_key_message,
        too_many_tags_message,
        type_message,
        unknown_key_message,
    )

    path = prefix + tuple(error.absolute_path)
    keyword = str(error.validator)
    value: Any = error.instance
    expected: Any = error.validator_value
    sub = error.schema if isinstance(error.schema, dict) else {}
    about_environments = environment_message(path, keyword, value, error.schema_path)
    if about_environments is not None:
        yield about_environments
        return
    if "propertyNames" in error.schema_path:
        yield Issue((*path, value), tag_key_message(str(value), str(keyword)), at_key=True)
        return
    if isinstance(value, Rejected):
        return  # already reported by the reader
    if keyword == "required":
        for key in expected:
            if isinstance(value, dict) and key not in value:
                yield Issue(path, missing_message(path, key))
    elif keyword == "additionalProperties":
        known = sorted(sub.get("properties", {}))
        for key in value:
            if key not in known:
                yield Issue((*path, key), unknown_key_message(path, str(key), known), at_key=True)
    elif keyword == "type":
        yield Issue(path, type_message(path, value, expected))
    elif keyword in ("enum", "const"):
        yield Issue(path, enum_message(path, value, expected))
    elif keyword == "pattern":
        if not (path[-1:] == ("name",) and value == ""):  # minLength says it
            yield Issue(path, pattern_message(path, value))
    elif keyword == "minLength":
        yield Issue(path, f"{label(path)} must not be empty")
    elif keyword == "maxLength":
        limit = expected
        if in_tags(path):
            yield Issue(
                path,
                f"tag '{path[-1]}' value is {len(value)} characters; Codat allows at most {limit}",
            )
        else:
            yield Issue(path, f"{label(path)} is {len(value)} characters; the limit is {limit}")
    elif keyword == "anyOf":  # an expense config field: an id, or `{name: ...}`
        branch = 1 if isinstance(value, dict) else 0
        if isinstance(value, (str, dict)):
            for sub_error in error.context or ():
                if sub_error.schema_path and sub_error.schema_path[0] == branch:
                    yield from _translate(sub_error, prefix)
        else:
            named = ' (or {name: "..."}: its name in the accounting platform)'
            yield Issue(path, type_message(path, value, "string") + named)
    elif keyword == "maxProperties":  # only tags have a limit; "then": the customer is protected
        yield Issue(path, too_many_tags_message(len(value), protected="then" in error.schema_path))
    else:  # pragma: no cover - a keyword added to the schema without a message here
        yield Issue(path, error.message)
