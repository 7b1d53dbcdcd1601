"""The JSON Schema: the single source of the format's structure, and its errors as plain words.

Validation has two engines over the same schema document:

* `is_valid` is a predicate compiled from the schema for the handful of keywords it uses (it
  refuses to compile a keyword it does not know). It decides the happy path quickly.
* jsonschema's Draft202012Validator (compiled once) runs only when the predicate says no, on the
  parts that failed, and its errors become `Issue`s with operator-friendly messages.
"""

from __future__ import annotations

import difflib
import functools
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema

from reconcile.desired.yamlload import Ambiguous, Rejected
from reconcile.model import (
    MAX_TAG_KEY,
    MAX_USER_TAGS,
    PLATFORM_ALIASES,
    PLATFORMS,
    RESERVED_TAG_PREFIX,
)

SCHEMA_NAME = "customers.schema.json"
NAME_ALLOWED = re.compile(r"[A-Za-z0-9\s\-',&@.?!]")


@dataclass(frozen=True)
class Issue:
    """A problem found in plain data, located by its path (resolved to a position later)."""

    path: tuple[Any, ...]
    message: str
    at_key: bool = False


# ------------------------------------------------------------------------- the schema text


def schema_text() -> str:
    """The JSON Schema, from the installed package or, in a source checkout, the repository."""
    try:
        packaged = resources.files("reconcile") / "schemas" / SCHEMA_NAME
        if packaged.is_file():
            return packaged.read_text(encoding="utf-8")
    except (FileNotFoundError, ModuleNotFoundError, NotADirectoryError):  # pragma: no cover
        pass
    source = Path(__file__).resolve().parents[2] / "schemas" / SCHEMA_NAME
    return source.read_text(encoding="utf-8")


@functools.cache
def schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(schema_text())
    return loaded


@functools.cache
def validator() -> Any:
    """jsonschema's validator for the whole document (typed Any: jsonschema's own types vary)."""
    return jsonschema.Draft202012Validator(schema())


@functools.cache
def _customer_validator() -> Any:
    return validator().evolve(schema=schema()["properties"]["customers"]["items"])


# ------------------------------------------------------------------------- fast predicate

Check = Callable[[Any], bool]
_ANNOTATIONS = frozenset(
    {"$schema", "$id", "$defs", "title", "description", "examples", "default", "$comment"}
)
_TYPES: dict[str, Check] = {
    "string": lambda x: isinstance(x, str),
    "boolean": lambda x: isinstance(x, bool),
    "integer": lambda x: (
        (isinstance(x, int) and not isinstance(x, bool))
        or (isinstance(x, float) and x.is_integer())
    ),
    "number": lambda x: isinstance(x, int | float) and not isinstance(x, bool),
    "object": lambda x: isinstance(x, dict),
    "array": lambda x: isinstance(x, list),
    "null": lambda x: x is None,
}


def _scalar_key(value: Any) -> tuple[str, Any] | None:
    """A hashable key that keeps JSON Schema's equality (true is not 1)."""
    if value is None or isinstance(value, bool | str):
        return (type(value).__name__, value)
    if isinstance(value, int | float):
        return ("number", value)
    return None


_TYPE_TESTS = {
    "string": "isinstance(x, str)",
    "boolean": "(x is True or x is False)",
    "integer": "((isinstance(x, int) and not isinstance(x, bool))"
    " or (isinstance(x, float) and x.is_integer()))",
    "number": "(isinstance(x, (int, float)) and not isinstance(x, bool))",
    "object": "isinstance(x, dict)",
    "array": "isinstance(x, list)",
    "null": "x is None",
}


class _Compiler:
    """Compiles a schema into Python source: one function per subschema, no interpretation."""

    def __init__(self, root: dict[str, Any]) -> None:
        self.root = root
        self.defs: list[str] = []
        self.tables: list[str] = []
        self.names: dict[int, str] = {}
        self.ns: dict[str, Any] = {"_scalar_key": _scalar_key}

    def const(self, value: Any) -> str:
        name = f"_c{len(self.ns)}"
        self.ns[name] = value
        return name

    def function(self, node: dict[str, Any]) -> str:
        known = self.names.get(id(node))
        if known is not None:
            return known
        name = f"_s{len(self.names)}"
        self.names[id(node)] = name
        body: list[str] = []
        props: dict[str, str] | None = None
        additional: Any = None
        for keyword, value in node.items():
            if keyword in _ANNOTATIONS:
                continue
            if keyword == "properties":
                props = {k: self.function(v) for k, v in value.items()}
            elif keyword == "additionalProperties":
                additional = value if isinstance(value, bool) else self.function(value)
            else:
                body.extend(self.keyword(keyword, value))
        if props is not None or additional is not None:
            table = f"_p{len(self.tables)}"
            entries = ", ".join(f"{k!r}: {f}" for k, f in (props or {}).items())
            self.tables.append(f"{table} = {{{entries}}}")
            body += [
                "if isinstance(x, dict):",
                "    for k, v in x.items():",
                f"        f = {table}.get(k)",
                "        if f is None:",
            ]
            if additional is False:
                body.append("            return False")
            elif isinstance(additional, str):
                body.append(f"            if not {additional}(v): return False")
            else:
                body.append("            pass")
            body.append("        elif not f(v): return False")
        self.defs.append(
            "\n".join([f"def {name}(x):", *(f"    {line}" for line in body), "    return True"])
        )
        return name

    def keyword(self, keyword: str, value: Any) -> list[str]:
        if keyword == "type":
            kinds = [value] if isinstance(value, str) else value
            return [f"if not ({' or '.join(_TYPE_TESTS[k] for k in kinds)}): return False"]
        if keyword == "required":
            test = " and ".join(f"{k!r} in x" for k in value) or "True"
            return [f"if isinstance(x, dict) and not ({test}): return False"]
        if keyword in ("enum", "const"):
            keys = {_scalar_key(o) for o in (value if keyword == "enum" else [value])}
            if None in keys:
                raise ValueError(f"only scalar {keyword} values are supported")
            return [f"if _scalar_key(x) not in {self.const(keys)}: return False"]
        if keyword == "pattern":
            rx = self.const(re.compile(value))
            return [f"if isinstance(x, str) and {rx}.search(x) is None: return False"]
        if keyword == "minLength":
            return [f"if isinstance(x, str) and len(x) < {int(value)}: return False"]
        if keyword == "maxLength":
            return [f"if isinstance(x, str) and len(x) > {int(value)}: return False"]
        if keyword == "maxProperties":
            return [f"if isinstance(x, dict) and len(x) > {int(value)}: return False"]
        if keyword == "propertyNames":
            names = self.function(value)
            return [
                "if isinstance(x, dict):",
                "    for k in x:",
                f"        if not {names}(k): return False",
            ]
        if keyword == "items":
            item = self.function(value)
            return [
                "if isinstance(x, list):",
                "    for i in x:",
                f"        if not {item}(i): return False",
            ]
        if keyword == "$ref":
            if not value.startswith("#/"):
                raise ValueError(f"only local $ref is supported, not {value!r}")
            target: Any = self.root
            for part in value[2:].split("/"):
                target = target[part]
            return [f"if not {self.function(target)}(x): return False"]
        raise ValueError(f"schema keyword {keyword!r} is not supported by the fast check")


def compile_schema(node: dict[str, Any], root: dict[str, Any]) -> Check:
    """A predicate equivalent to the schema `node` for the keywords this format uses."""
    compiler = _Compiler(root)
    entry = compiler.function(node)
    source = "\n\n".join([*compiler.defs, *compiler.tables])
    namespace = dict(compiler.ns)
    exec(compile(source, "<customers.schema.json>", "exec"), namespace)
    check: Check = namespace[entry]
    return check


@functools.cache
def _customer_check() -> Check:
    return compile_schema(schema()["properties"]["customers"]["items"], schema())


@functools.cache
def is_valid() -> Check:
    return compile_schema(schema(), schema())


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
    path = prefix + tuple(error.absolute_path)
    keyword = str(error.validator)
    value: Any = error.instance
    expected: Any = error.validator_value
    sub = error.schema if isinstance(error.schema, dict) else {}
    if "propertyNames" in error.schema_path:
        yield Issue((*path, value), _tag_key_message(str(value), str(keyword)), at_key=True)
        return
    if isinstance(value, Rejected):
        return  # already reported by the reader
    if keyword == "required":
        for key in expected:
            if isinstance(value, dict) and key not in value:
                yield Issue(path, _missing_message(path, key))
    elif keyword == "additionalProperties":
        known = sorted(sub.get("properties", {}))
        for key in value:
            if key not in known:
                yield Issue((*path, key), _unknown_key_message(path, str(key), known), at_key=True)
    elif keyword == "type":
        yield Issue(path, _type_message(path, value, expected))
    elif keyword in ("enum", "const"):
        yield Issue(path, _enum_message(path, value, expected))
    elif keyword == "pattern":
        if not (path[-1:] == ("name",) and value == ""):  # minLength says it
            yield Issue(path, _pattern_message(path, value))
    elif keyword == "minLength":
        yield Issue(path, f"{_label(path)} must not be empty")
    elif keyword == "maxLength":
        limit = expected
        if _in_tags(path):
            yield Issue(
                path,
                f"tag '{path[-1]}' value is {len(value)} characters; Codat allows at most {limit}",
            )
        else:
            yield Issue(path, f"{_label(path)} is {len(value)} characters; the limit is {limit}")
    elif keyword == "maxProperties":
        yield Issue(path, too_many_tags_message(len(value)))
    else:  # pragma: no cover - a keyword added to the schema without a message here
        yield Issue(path, error.message)


# ------------------------------------------------------------------------- messages

_KIND_WORDS = {
    "string": "a string",
    "boolean": "true or false",
    "integer": "an integer",
    "number": "a number",
    "object": "a mapping",
    "array": "a list",
    "null": "null",
}


def _label(path: tuple[Any, ...]) -> str:
    if not path:
        return "the file"
    last = path[-1]
    if isinstance(last, int):
        return "each customer" if path[-2:-1] == ("customers",) else f"item {last + 1}"
    if _in_tags(path):
        return f"tag '{last}'"
    return f"'{last}'"


def _in_tags(path: tuple[Any, ...]) -> bool:
    return len(path) >= 2 and path[-2] == "tags" and isinstance(path[-1], str)


def noun(path: tuple[Any, ...]) -> str:
    """What the mapping at `path` is, in words."""
    if not path:
        return "the top level"
    if path == ("defaults",):
        return "defaults"
    if len(path) == 2 and path[0] == "customers":
        return "customer"
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


def _type_message(path: tuple[Any, ...], value: Any, expected: Any) -> str:
    kinds = [expected] if isinstance(expected, str) else list(expected)
    label = _label(path)
    if not path:
        return (
            f"the file must be a mapping with version, owner and customers, got {describe(value)}"
        )
    if "boolean" in kinds:
        quoted = isinstance(value, str) and value.casefold() in ("true", "false")
        quotes = " (without quotes)" if quoted else ""
        return f"{label} must be true or false, got {describe(value)}; write true or false{quotes}"
    if "string" in kinds:
        text = _scalar_text(value)
        hint = f'; quote it: "{text}"' if text is not None else ""
        if value is None:
            return f"{label} must be a string, got an empty value"
        return f"{label} must be a string, got {describe(value)}{hint}"
    if "object" in kinds:
        return f"{label} must be a mapping (key: value), got {describe(value)}"
    if "array" in kinds:
        return f"{label} must be a list (items starting with '- '), got {describe(value)}"
    words = " or ".join(_KIND_WORDS.get(k, k) for k in kinds)  # pragma: no cover
    return f"{label} must be {words}, got {describe(value)}"  # pragma: no cover


def _missing_message(path: tuple[Any, ...], key: str) -> str:
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


def _unknown_key_message(path: tuple[Any, ...], key: str, known: list[str]) -> str:
    where = noun(path)
    near = suggest(key, known)
    if near is not None:
        return f"unknown key '{key}' in {where}; did you mean '{near}'?"
    return f"unknown key '{key}' in {where}; expected one of: {', '.join(known)}"


def platform_choices() -> str:
    aliases = ", ".join(alias for p in PLATFORMS for alias in p.aliases)
    return f"{aliases}; or a 4-letter key: {', '.join(p.key for p in PLATFORMS)}"


def _enum_message(path: tuple[Any, ...], value: Any, allowed: Any) -> str:
    field = path[-1] if path else ""
    shown = value.text if isinstance(value, Ambiguous) else value
    if field == "version":
        if isinstance(value, int) and not isinstance(value, bool):
            return f"unsupported version {value}; this reconcile reads version 1"
        return f"'version' must be the number 1, got {describe(value)}; write version: 1"
    if field == "accounting":
        if isinstance(value, str) and value.strip().casefold() in PLATFORM_ALIASES:
            return (
                f"accounting platform '{value}' must be written in lowercase:"
                f" '{value.strip().casefold()}'"
            )
        if not isinstance(value, str):
            return (
                f"'accounting' must be a platform name or key, got {describe(value)};"
                f" valid: {platform_choices()}"
            )
        near = suggest(value, list(PLATFORM_ALIASES))
        hint = f"did you mean '{near}'? " if near else ""
        return f"unknown accounting platform '{value}'; {hint}valid: {platform_choices()}"
    options = [o for o in (allowed if isinstance(allowed, list) else [allowed]) if o is not None]
    near = suggest(str(shown), [str(o) for o in options]) if isinstance(shown, str) else None
    hint = f"; did you mean '{near}'?" if near else ""
    got = f"'{shown}'" if isinstance(shown, str) else describe(value)
    return f"{_label(path)} must be one of {', '.join(map(str, options))}, got {got}{hint}"


def bad_name_chars(name: str) -> list[str]:
    seen: list[str] = []
    for char in name:
        if not NAME_ALLOWED.fullmatch(char) and char not in seen:
            seen.append(char)
    return seen


def _pattern_message(path: tuple[Any, ...], value: str) -> str:
    field = path[-1] if path else ""
    if field == "name" and not bad_name_chars(value):
        if not value.strip():
            return "name must not be blank"
        return (
            f"name {value!r} has leading or trailing spaces, which Codat trims;"
            f" write {value.strip()!r}"
        )
    if field == "name":
        bad = ", ".join(repr(c) for c in bad_name_chars(value))
        return (
            f"name {value!r} has characters Codat would strip: {bad};"
            " use letters A-Z, digits, spaces and - ' , & @ . ? ! only"
        )
    if field in ("uid", "owner") and value == "":
        return f"{field} must not be empty"
    if field in ("uid", "owner"):
        return (
            f"{field} {value!r} is invalid: use 1-64 letters, digits, '.', '_' or '-',"
            " starting with a letter or digit"
        )
    if field == "id":
        return (
            f"'id' must be a Codat company id (a UUID such as"
            f" 77921ff9-3ec0-4a5b-9a55-0b5f4e1d2c3a), got {value!r}"
        )
    return f"{_label(path)} {value!r} has an invalid format"  # pragma: no cover


def _tag_key_message(key: str, keyword: str) -> str:
    if keyword == "pattern":
        return (
            f"tag key '{key}' is reserved: keys starting with '{RESERVED_TAG_PREFIX}'"
            " are set by reconcile itself"
        )
    if keyword == "minLength":
        return "tag key must not be empty"
    return f"tag key '{key}' is {len(key)} characters; Codat allows at most {MAX_TAG_KEY}"


def too_many_tags_message(count: int) -> str:
    return (
        f"{count} user tags; at most {MAX_USER_TAGS} are allowed (Codat allows 10 tags a"
        " company and reconcile uses 2: reconcile.owner and reconcile.uid)"
    )
