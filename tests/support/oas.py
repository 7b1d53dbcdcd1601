"""Validate requests and responses against Codat's wire contract.

The contract (`tests/contract/codat.json`) is extracted from Codat's official OpenAPI documents
by `tests/contract/extract.py`: the operations, parameters, status codes and schemas the tool and
the sandbox use, with the known contradictions patched; `tests/contract/test_drift.py` keeps it
equal to the documents wherever they are present. The documents are OpenAPI 3.1 with a few 3.0
habits (`nullable: true`), which JSON Schema 2020-12 ignores; `_normalise` turns each
`nullable: true` into "or null" so the official text is honoured as meant.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

CONTRACT = Path(__file__).resolve().parents[1] / "contract" / "codat.json"


def _normalise(node: Any) -> Any:
    if isinstance(node, dict):
        out = {k: _normalise(v) for k, v in node.items()}
        if out.pop("nullable", False) is True:
            return {"anyOf": [out, {"type": "null"}]}
        return out
    if isinstance(node, list):
        return [_normalise(v) for v in node]
    return node


def _pointer(doc: Any, pointer: str) -> Any:
    node = doc
    for part in pointer.lstrip("/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


@dataclass(frozen=True)
class Spec:
    name: str
    uri: str
    doc: dict[str, Any]
    registry: Registry  # type: ignore[type-arg]

    def resolve(self, node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node and node["$ref"].startswith("#/"):
            node = _pointer(self.doc, node["$ref"][1:])
        return node

    def operation(self, method: str, template: str) -> dict[str, Any]:
        return self.doc["paths"][template][method.lower()]  # type: ignore[no-any-return]

    def template_for(self, path: str) -> str:
        path = path.split("?", 1)[0]
        for template in self.doc["paths"]:
            pattern = "^" + re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(template)) + "$"
            if re.match(pattern, path):
                return template
        raise AssertionError(f"{path} is not a path of the {self.name} spec")

    def validator(self, schema_pointer: str) -> Draft202012Validator:
        return Draft202012Validator(
            {"$ref": f"{self.uri}#{schema_pointer}"},
            registry=self.registry,
            format_checker=Draft202012Validator.FORMAT_CHECKER,
        )


@cache
def _contract() -> dict[str, Any]:
    return json.loads(CONTRACT.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


@cache
def load_spec(name: str) -> Spec:
    doc = _normalise(_contract()["specs"][name])
    uri = f"urn:codat-oas:{name}"
    registry = Registry().with_resource(uri, Resource(contents=doc, specification=DRAFT202012))
    return Spec(name, uri, doc, registry)


def _errors(validator: Draft202012Validator, body: Any) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
        for e in validator.iter_errors(body)
    ]


def response_errors(
    method: str, path: str, status: int, body: Any, spec: str = "platform"
) -> list[str]:
    """Every way a response differs from the spec; [] when it conforms."""
    s = load_spec(spec)
    template = s.template_for(path)
    op = s.operation(method, template)
    responses = op["responses"]
    if str(status) not in responses:
        return [f"{method} {template}: status {status} is not documented ({sorted(responses)})"]
    response = s.resolve(responses[str(status)])
    content = response.get("content")
    if not content:
        if body not in (None, b"", ""):
            return [f"{method} {template} {status}: the spec documents no body, got {body!r}"]
        return []
    if "application/json" not in content:
        return []
    if body in (None, b"", ""):
        return [f"{method} {template} {status}: a JSON body is documented, got none"]
    pointer = _schema_pointer(s, responses[str(status)], content["application/json"])
    return _errors(s.validator(pointer), body)


def request_errors(method: str, path: str, body: Any, spec: str = "platform") -> list[str]:
    s = load_spec(spec)
    template = s.template_for(path)
    op = s.operation(method, template)
    rb = op.get("requestBody")
    if rb is None:
        return [] if body is None else [f"{method} {template}: the spec documents no body"]
    json_content = rb["content"]["application/json"]
    if "$ref" in json_content["schema"]:
        pointer = json_content["schema"]["$ref"][1:]
    else:
        pointer = (
            f"/paths/{_escape(template)}/{method.lower()}/requestBody/content/"
            "application~1json/schema"
        )
    return _errors(s.validator(pointer), body)


def _schema_pointer(s: Spec, response_ref: dict[str, Any], json_content: dict[str, Any]) -> str:
    schema = json_content["schema"]
    if "$ref" in schema:
        return str(schema["$ref"][1:])
    raise AssertionError(f"inline response schemas are not supported: {response_ref}")


def _escape(template: str) -> str:
    return template.replace("~", "~0").replace("/", "~1")


def assert_conforms(method: str, path: str, status: int, body: Any, spec: str = "platform") -> None:
    errors = response_errors(method, path, status, body, spec)
    assert not errors, "\n".join(errors)
