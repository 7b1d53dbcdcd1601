"""Write the Codat contract the tests check against, from Codat's official OpenAPI documents.

    python -m tests.contract.extract [OAS_DIR]     # default: ../shared/codat-oas beside the project

Codat's documents are Codat's text, so the repository does not carry them whole. It carries
`codat.json`: only the facts the client and the sandbox are checked against. That is the paths
and methods used, with their parameters, status codes and request and response schemas; the
webhooks the watch consumes; and every component those reference (transitively), so each `$ref`
resolves inside the contract. Descriptions, summaries, examples and vendor extensions (`x-*`)
are left out. The known contradictions in the documents are patched on purpose (`PATCHES`).

`tests/contract/test_drift.py` checks, wherever the documents are present (as in CI), that the
committed contract is exactly what this script writes now.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OAS_DIR = PROJECT_ROOT.parent / "shared" / "codat-oas"
CONTRACT = Path(__file__).with_name("codat.json")
FORMAT_VERSION = 1

SOURCES = {"platform": "Codat-Platform.json", "expenses": "Codat-Sync-Expenses.json"}

_COMPANY = "/companies/{companyId}"
_CONNECTIONS = (
    "/companies",
    _COMPANY,
    _COMPANY + "/connections",
    _COMPANY + "/connections/{connectionId}",
)
# The operations the client sends and the sandbox serves, per document (every method of each).
PATHS: dict[str, tuple[str, ...]] = {
    "platform": (
        *_CONNECTIONS,
        "/profile",
        "/profile/syncSettings",
        _COMPANY + "/dataStatus",
        _COMPANY + "/data/all",
        _COMPANY + "/data/history",
        "/webhooks",
        "/webhooks/{webhookId}",
        "/integrations",
        "/integrations/{platformKey}",
    ),
    "expenses": (
        *_CONNECTIONS,
        _COMPANY + "/sync/expenses/connections/partnerExpense",
        _COMPANY + "/sync/expenses/config",
        _COMPANY + "/sync/expenses/mappingOptions",
        _COMPANY + "/data/customers",
        _COMPANY + "/data/customers/{customerId}",
        _COMPANY + "/data/suppliers",
        _COMPANY + "/data/suppliers/{supplierId}",
    ),
}
# Codat's webhook envelopes (OpenAPI `webhooks`) for the events a watch reacts to.
WEBHOOKS: dict[str, tuple[str, ...]] = {
    "platform": (
        "company.created",
        "company.deleted",
        "connection.created",
        "connection.connected",
        "connection.disconnected",
        "connection.reconnected",
        "connection.deleted",
        "connection.failed",
        "client.rateLimit.reached",
        "client.rateLimit.reset",
    ),
}
# Components some tests validate against directly, whether or not a path reaches them.
ALWAYS: tuple[str, ...] = ("#/components/schemas/ErrorMessage",)

# Known contradictions inside the official documents, patched narrowly and on purpose:
# - PagingInfo.pageSize has `maximum: 2000` while the `pageSize` query parameter allows 5000
#   (and Codat's docs recommend 5000). A page of 5000 is a valid answer to a valid request.
# - `POST /profile/syncSettings` documents no 400, yet its body has required fields and an enum:
#   a body that breaks them gets Codat's usual 400 (`Bad-Request`), as every other write does.
PATCHES: tuple[tuple[str, str, str, Any], ...] = (
    ("platform", "/components/schemas/PagingInfo/properties/pageSize", "maximum", 5000),
    (
        "platform",
        "/paths/~1profile~1syncSettings/post/responses",
        "400",
        {"$ref": "#/components/responses/Bad-Request"},
    ),
    ("expenses", "/components/schemas/PagingInfo/properties/pageSize", "maximum", 5000),
)

# Keywords that carry prose or examples, never a constraint.
_PROSE = frozenset({"description", "summary", "example", "examples", "externalDocs", "title"})
# Objects whose keys are names (a property called "description" is not prose).
_NAME_MAPS = frozenset(
    {
        "properties",
        "patternProperties",
        "definitions",
        "$defs",
        "schemas",
        "responses",
        "parameters",
        "requestBodies",
        "headers",
        "content",
        "securitySchemes",
        "links",
        "callbacks",
        "encoding",
        "paths",
        "webhooks",
        "dependentSchemas",
    }
)
_REF = re.compile(r"^#(/.*)$")


def pointer_get(doc: Any, pointer: str) -> Any:
    node = doc
    for part in pointer.lstrip("/").split("/"):
        key = part.replace("~1", "/").replace("~0", "~")
        node = node[int(key)] if isinstance(node, list) else node[key]
    return node


def _pointer_set(doc: dict[str, Any], pointer: str, value: Any) -> None:
    parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer.lstrip("/").split("/")]
    node = doc
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value


def strip(node: Any, *, names: bool = False) -> Any:
    """`node` without prose, examples or vendor extensions (keys of name maps are kept)."""
    if isinstance(node, list):
        return [strip(v) for v in node]
    if not isinstance(node, dict):
        return node
    if names:
        return {k: strip(v) for k, v in node.items()}
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key.startswith("x-") or key in _PROSE:
            continue
        out[key] = strip(value, names=key in _NAME_MAPS)
    return out


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            yield ref
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _component_root(pointer: str) -> str:
    """`/components/schemas/Connection/definitions/x` -> `/components/schemas/Connection`."""
    parts = pointer.lstrip("/").split("/")
    return "/" + "/".join(parts[:3])


def extract_one(name: str, raw: dict[str, Any]) -> dict[str, Any]:
    for spec, pointer, key, value in PATCHES:
        if spec == name:
            pointer_get(raw, pointer)[key] = value
    doc: dict[str, Any] = {"openapi": raw["openapi"], "paths": {}}
    for template in PATHS.get(name, ()):
        doc["paths"][template] = strip(raw["paths"][template])
    hooks = WEBHOOKS.get(name, ())
    if hooks:
        doc["webhooks"] = {event: strip(raw["webhooks"][event]) for event in hooks}
    pending = [*_refs(doc), *(r for r in ALWAYS if name == "platform")]
    seen: set[str] = set()
    while pending:
        ref = pending.pop()
        match = _REF.match(ref)
        if match is None:
            raise ValueError(f"{name}: only local $refs are supported, not {ref!r}")
        root = _component_root(match.group(1))
        if root in seen:
            continue
        seen.add(root)
        component = strip(pointer_get(raw, root))
        _pointer_set(doc, root, component)
        pending.extend(_refs(component))
    doc["components"] = _sorted(doc.get("components", {}))
    return doc


def _sorted(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _sorted(node[k]) for k in sorted(node)}
    return node


def extract(oas_dir: Path) -> dict[str, Any]:
    """The contract, as a JSON-ready document, from the official documents in `oas_dir`."""
    specs = {}
    for name, filename in SOURCES.items():
        raw = json.loads((oas_dir / filename).read_text(encoding="utf-8"))
        specs[name] = extract_one(name, raw)
    return {
        "format_version": FORMAT_VERSION,
        "generated_by": "python -m tests.contract.extract",
        "sources": dict(SOURCES),
        "patches": [
            {"spec": spec, "pointer": pointer, "key": key, "value": value}
            for spec, pointer, key, value in PATCHES
        ],
        "specs": specs,
    }


def render(contract: dict[str, Any]) -> str:
    return json.dumps(contract, indent=1, ensure_ascii=True, sort_keys=False) + "\n"


def main(argv: list[str]) -> int:
    oas_dir = Path(argv[1]) if len(argv) > 1 else DEFAULT_OAS_DIR
    if not (oas_dir / SOURCES["platform"]).is_file():
        print(f"no Codat OpenAPI documents in {oas_dir}: nothing written", file=sys.stderr)
        return 1
    CONTRACT.write_text(render(extract(oas_dir)), encoding="utf-8")
    print(f"wrote {CONTRACT.relative_to(PROJECT_ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
