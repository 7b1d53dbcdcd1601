"""A JSON Schema compiled to a Python predicate, for the handful of keywords the format uses.

`compile_schema(node, root)` writes one Python function per subschema and execs them: no
interpretation per value, so checking 10,000 customers costs a few milliseconds. It refuses to
compile a keyword it does not know, so the schema cannot grow a rule the predicate silently skips
(tests compare it with jsonschema on random documents).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

Check = Callable[[Any], bool]
_ANNOTATIONS = frozenset(
    {"$schema", "$id", "$defs", "title", "description", "examples", "default", "$comment"}
)


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
            if keyword in _ANNOTATIONS or keyword in ("then", "else"):
                continue  # then/else are compiled with their `if`
            if keyword == "properties":
                props = {k: self.function(v) for k, v in value.items()}
            elif keyword == "additionalProperties":
                additional = value if isinstance(value, bool) else self.function(value)
            else:
                body.extend(self.keyword(keyword, value, node))
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

    def keyword(self, keyword: str, value: Any, node: dict[str, Any]) -> list[str]:
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
        if keyword == "minProperties":
            return [f"if isinstance(x, dict) and len(x) < {int(value)}: return False"]
        if keyword == "minItems":
            return [f"if isinstance(x, list) and len(x) < {int(value)}: return False"]
        if keyword == "uniqueItems":
            if not value:
                return []
            return [
                "if isinstance(x, list) and len({_scalar_key(i) for i in x}) < len(x):",
                "    return False",
            ]
        if keyword == "not":
            return [f"if {self.function(value)}(x): return False"]
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
        if keyword == "if":
            test = self.function(value)
            then = self.function(node["then"]) if "then" in node else None
            other = self.function(node["else"]) if "else" in node else None
            lines = [f"if {test}(x):"]
            lines.append(f"    if not {then}(x): return False" if then else "    pass")
            if other:
                lines += ["else:", f"    if not {other}(x): return False"]
            return lines
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
