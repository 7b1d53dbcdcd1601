"""The sandbox answers only its user: loopback `Host` headers, and request bodies of bounded size.

- **Hosts**: a request whose `Host` is not a loopback name (`localhost`, `127.0.0.0/8`, `[::1]`,
  any port) is refused with 400 before anything else runs. A web page on another site cannot use
  DNS rebinding to drive the sandbox, and no foreign host name reaches a stored `linkUrl` (they
  are built from the `Host` the client used). Like Starlette's `TrustedHostMiddleware`, but it
  answers Codat's ErrorMessage and knows every loopback address (`reconcile.loopback`). The
  in-process sandbox (`httpx.ASGITransport`) is reached as `http://127.0.0.1:8765`, so it needs
  no exception.
- **Bodies**: at most `SandboxOptions.max_body_bytes` (1 MB). A declared `Content-Length` above it
  is refused at once; otherwise the body is counted while it is read and refused as soon as it
  passes the cap, so a 400 MB upload never sits in the server's memory. The answer is 413 with
  Codat's ErrorMessage and `Connection: close` (the rest of the upload is not read).
"""

from __future__ import annotations

import functools
from typing import Final
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

from reconcile.loopback import is_loopback
from reconcile.sandbox.errors import error_response
from reconcile.sandbox.layers.common import BodyTooLarge, header, read_body, replay_receive

LOOPBACK_EXAMPLES: Final = "localhost, 127.0.0.1 or [::1]"


def host_name(value: str | None) -> str | None:
    """The host of a `Host` header (`[::1]:8765` gives `::1`); None if it is not well formed."""
    if not value or any(ch in value for ch in "/?#@\\ \t"):
        return None
    try:
        parts = urlsplit("//" + value)
        _ = parts.port  # raises on a port that is not a number in range
    except ValueError:
        return None
    return parts.hostname or None


@functools.lru_cache(maxsize=256)
def is_loopback_host(value: str | None) -> bool:
    """Kept per `Host` value: a client sends the same one on every request."""
    name = host_name(value)
    return name is not None and is_loopback(name)


class LoopbackHostMiddleware:
    """Refuse requests whose `Host` header is not a loopback name (400)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or is_loopback_host(header(scope, "host")):
            await self.app(scope, receive, send)
            return
        response = error_response(
            400,
            f"Invalid Host header: the sandbox answers only loopback names ({LOOPBACK_EXAMPLES}).",
        )
        await response(scope, receive, send)


class BodyLimitMiddleware:
    """Refuse request bodies larger than `limit` bytes (413), counting them as they arrive."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        megabytes = self.limit / (1024 * 1024)
        response = error_response(
            413,
            f"The request body is too large: at most {self.limit} bytes"
            f" ({megabytes:g} MB) are accepted.",
            headers={"Connection": "close"},
        )
        await response(scope, receive, send)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = header(scope, "content-length")
        if declared is not None and declared.strip().isdigit() and int(declared) > self.limit:
            await self.too_large(scope, receive, send)
            return
        try:
            body = await read_body(receive, self.limit)
        except BodyTooLarge:
            await self.too_large(scope, receive, send)
            return
        if body is None:
            return  # the client went away before its request was whole: nothing to answer
        await self.app(scope, replay_receive(body, receive), send)
