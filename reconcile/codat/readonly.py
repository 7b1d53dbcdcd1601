"""A Codat client that can only read: `audit` and `export` use it, so read-only is a property of
the code, not a promise of the caller.

Two locks, each enough on its own:

- `ReadOnlyClient.request` refuses any method but GET before anything else happens;
- the wire under it (`reconcile.codat.wire`, the single point every request of a client passes,
  whichever transport carries it) refuses any method but GET before a byte is sent, so a write
  could not leave even through a code path that bypasses `request` (a helper of the base client
  that talks to the wire directly, a future method). The wire itself is the one `plan` has
  (the lean one, or httpx's with any HTTPS proxy of the environment, or the transport given).

A refused write raises `WriteRefused` (a `CodatError`, so the commands report it cleanly): it is
a bug in the caller, and nothing reached Codat. If live Codat changes while a read-only command
runs, nothing here cares: it only ever reads, and what it reports is what each read saw.
"""

from __future__ import annotations

import random
from typing import Any
from urllib.parse import urlsplit

import httpx

from reconcile.codat.client import ClientSettings, CodatClient, Sleep
from reconcile.codat.errors import CodatError
from reconcile.codat.wire import Answer, Outgoing, Wire

ALLOWED_METHOD = "GET"


class WriteRefused(CodatError):
    """A read-only client was asked to send something other than GET; nothing was sent."""

    def __init__(self, method: str, path: str) -> None:
        super().__init__(
            f"{method} {path}: refused by the read-only client (only GET is ever sent); "
            "nothing was sent to Codat"
        )
        self.method = method
        self.path = path


class GetOnlyWire:
    """Wraps a wire; any request but GET raises before it reaches the wrapped one."""

    def __init__(self, inner: Wire) -> None:
        self.inner = inner

    async def send(self, out: Outgoing) -> Answer:
        if out.method != ALLOWED_METHOD or out.body is not None:
            raise WriteRefused(out.method, urlsplit(out.url).path)
        return await self.inner.send(out)

    def foresee(self, requests: int) -> None:
        self.inner.foresee(requests)

    def prepare(self, base_url: str) -> None:
        self.inner.prepare(base_url)

    async def aclose(self) -> None:
        await self.inner.aclose()


class ReadOnlyClient(CodatClient):
    """A `CodatClient` whose every request is a GET, or a `WriteRefused` before any I/O."""

    def __init__(
        self,
        api_key: str,
        settings: ClientSettings | None = None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep | None = None,
        rng: random.Random | None = None,
    ) -> None:
        extra: dict[str, Any] = {"sleep": sleep} if sleep is not None else {}
        super().__init__(api_key, settings, transport=transport, rng=rng, **extra)
        self.wire = GetOnlyWire(self.wire)

    async def request(self, method: str, path: str, *args: Any, **kwargs: Any) -> Answer:
        if method.upper() != ALLOWED_METHOD or kwargs.get("json") is not None:
            raise WriteRefused(method, path)
        return await super().request(method, path, *args, **kwargs)
