"""The one interface the client sends through: `Wire.send(Outgoing)`, which answers with a small
`Answer` (status, headers, body bytes) or raises httpx's transport errors.

Two kinds behind it (docs/design.md, §10 "Scale"):

- `HttpxWire`, httpx's client API: a transport given to the client (the in-process sandbox's
  ASGI transport, tests' mock transports), an environment proxy, and a run's first requests
  (`reconcile.codat.transport`);
- the lean `AiohttpWire` (`reconcile.codat.transport`): no httpx Request or Response objects,
  the URL sent as the client built it.

The client (`reconcile.codat.client`) builds the URL, the headers and the body once, and keeps
retries, deadlines, idempotency keys, rate-limit headers, answer checks and logging in its one
code path above this interface. Every wire reads an answer only up to `cap` bytes (decoded):
beyond, `AnswerTooLarge`, and the client reports it.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

import httpx

from reconcile.codat.outbox import Written

# httpcore's trace event once a request's last byte is written (HTTP/1.1 and HTTP/2).
BODY_WRITTEN = "send_request_body.complete"


class AnswerTooLarge(Exception):
    """The answer holds more than the cap (`size` bytes or more); the rest is not read."""

    def __init__(self, size: int) -> None:
        self.size = size


class Answer:
    """What the client reads of an answer: the status, the headers (case-insensitive), the body
    (decoded of its Content-Encoding)."""

    __slots__ = ("content", "headers", "status_code")

    def __init__(self, status_code: int, headers: Mapping[str, str], content: bytes) -> None:
        self.status_code = status_code
        self.headers = headers
        self.content = content

    def json(self) -> Any:
        return json.loads(self.content)

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def __repr__(self) -> str:
        return f"<Answer [{self.status_code}]>"


class Outgoing:
    """One request as the client built it (its URL, headers and body, once), the most of its
    answer a wire reads (`cap` bytes, decoded), and what to call once it is on the network
    (`written`: when the wire can tell, else when it is handed over; perhaps never when the send
    fails: `reconcile.codat.outbox`)."""

    __slots__ = ("body", "cap", "headers", "method", "url", "written")

    def __init__(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None,
        cap: int,
        written: Written | None = None,
    ) -> None:
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.cap = cap
        self.written = written


class Wire(Protocol):
    async def send(self, out: Outgoing) -> Answer: ...

    def foresee(self, requests: int) -> None:
        """About `requests` more are coming (a plan's config reads): a wire may get ready for
        them now (`reconcile.codat.transport.SwitchingWire`); a hint, never a limit."""

    def prepare(self, base_url: str) -> None:
        """Build now what the first request to `base_url` needs (a run about to start CPU work
        in another thread: the work would hold up its imports); nothing is sent."""

    async def aclose(self) -> None: ...


class HttpxWire:
    """Requests sent through an httpx client (its transport, its proxies from the environment),
    the answer read within the cap. With `traced` (a network transport: httpcore's), a request
    is written when httpcore's trace says its body is; else when it is handed over."""

    def __init__(self, http: httpx.AsyncClient, *, traced: bool = False) -> None:
        self.http = http
        self.traced = traced

    async def send(self, out: Outgoing) -> Answer:
        extensions, cap = None, out.cap
        if out.written is not None:
            if self.traced:
                extensions = {"trace": _tracer(out.written)}
            else:
                out.written()
        request = self.http.build_request(
            out.method, out.url, content=out.body, headers=dict(out.headers), extensions=extensions
        )
        response = await self.http.send(request, stream=True)
        try:
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > cap:
                raise AnswerTooLarge(int(declared))
            parts: list[bytes] = []
            size = 0
            async for part in response.aiter_bytes():
                size += len(part)
                if size > cap:
                    raise AnswerTooLarge(size)
                parts.append(part)
        finally:
            await response.aclose()
        return Answer(response.status_code, response.headers, b"".join(parts))

    def foresee(self, requests: int) -> None:
        """Nothing to get ready: the transport stays the one given."""

    def prepare(self, base_url: str) -> None:
        """Nothing to build: the client is made."""

    async def aclose(self) -> None:
        await self.http.aclose()


def _tracer(written: Written) -> Callable[[str, Mapping[str, Any]], Awaitable[None]]:
    """httpx's `trace` extension calling `written` once the body is written."""

    async def trace(event: str, info: Mapping[str, Any]) -> None:
        if event.endswith(BODY_WRITTEN):
            written()

    return trace


def decoded(body: bytes, encoding: str, cap: int) -> bytes:
    """`body` decoded of its Content-Encoding (identity, gzip or deflate: what the client
    accepts), at most `cap` bytes of it, else `AnswerTooLarge`; an unreadable or unknown
    encoding is httpx's `DecodingError`, as httpx reports it."""
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return body
    attempts: tuple[int, ...]
    if encoding == "gzip":
        attempts = (zlib.MAX_WBITS | 16,)
    elif encoding == "deflate":  # zlib-wrapped as the RFC says, or raw as some servers send
        attempts = (zlib.MAX_WBITS, -zlib.MAX_WBITS)
    else:
        raise httpx.DecodingError(f"unsupported Content-Encoding {encoding[:40]!r}")
    for wbits in attempts:
        inflate = zlib.decompressobj(wbits)
        try:
            out = inflate.decompress(body, cap + 1)
        except zlib.error as exc:
            if wbits == attempts[-1]:
                raise httpx.DecodingError(f"{encoding}: {exc}") from None
            continue
        if len(out) > cap:
            raise AnswerTooLarge(len(out))
        return out
    raise AssertionError("unreachable")  # pragma: no cover
