"""What the client sends, built once per request by string operations: the URL (the checked base
URL, normalised once, and a `reconcile.paths` path, whose ids are already quoted segments), the
query (urllib's encoding, as httpx encodes it) and a JSON body (encoded as httpx encodes it).

A path with anything else (a character to quote, a dot segment) goes through httpx's URL
parsing, as every path did before, so an odd path is sent exactly as httpx would send it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

import httpx

# What the client accepts (both wires decode it: httpx, and `reconcile.codat.wire.decoded`).
ACCEPT_ENCODING = "gzip, deflate"
# A path of plain and percent-quoted characters only (RFC 3986 pchar and "/").
_PLAIN_PATH = re.compile(r"/[A-Za-z0-9\-._~%!$&'()*+,;=:@/]*")


def url_root(base_url: str) -> str:
    """The checked base URL as httpx normalises it (scheme and host lowercased, IDNA), without
    a trailing slash: what every path is appended to."""
    return str(httpx.URL(base_url)).rstrip("/")


def request_url(root: str, path: str, params: Mapping[str, Any] | None) -> str:
    if _PLAIN_PATH.fullmatch(path) is None or "/." in path:
        path = "/" + httpx.URL(path).raw_path.decode("ascii").lstrip("/")
    if not params:
        return root + path
    return f"{root}{path}?{urlencode([(k, _text(v)) for k, v in _items(params)])}"


def _items(params: Mapping[str, Any]) -> list[tuple[str, Any]]:
    items: list[tuple[str, Any]] = []
    for key, value in params.items():
        if isinstance(value, list | tuple):
            items.extend((key, each) for each in value)
        else:
            items.append((key, value))
    return items


def _text(value: object) -> str:
    """A query value as httpx writes it: JSON-style booleans, None as empty."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return ""
    return str(value)


def encode_json(body: object) -> bytes:
    """A JSON body as httpx encodes `json=` (compact, UTF-8, no NaN)."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
