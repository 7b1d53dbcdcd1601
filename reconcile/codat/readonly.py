"""A Codat client that can only read: `audit` and `export` use it, so read-only is a property of
the code, not a promise of the caller.

Two locks, each enough on its own:

- `ReadOnlyClient.request` refuses any method but GET before anything else happens;
- the HTTP layer under it refuses any method but GET before a byte is sent, so a write could
  not leave even through a code path that bypasses `request` (a helper of the base client that
  talks to httpx directly, a future method): a request hook of the httpx client (so the default
  transport, and with it any HTTPS proxy of the environment, stays as `plan` has it), and a
  guarding wrapper around a transport given explicitly (the in-process sandbox, tests).

A refused write raises `WriteRefused` (a `CodatError`, so the commands report it cleanly): it is
a bug in the caller, and nothing reached Codat. If live Codat changes while a read-only command
runs, nothing here cares: it only ever reads, and what it reports is what each read saw.
"""

from __future__ import annotations

import random
from typing import Any

import httpx

from reconcile.codat.client import ClientSettings, CodatClient, Sleep
from reconcile.codat.errors import CodatError

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


class GetOnlyTransport(httpx.AsyncBaseTransport):
    """Wraps a transport; any request but GET raises before it reaches the wrapped one."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method != ALLOWED_METHOD:
            raise WriteRefused(request.method, request.url.path)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


async def _refuse_writes(request: httpx.Request) -> None:
    if request.method != ALLOWED_METHOD:
        raise WriteRefused(request.method, request.url.path)


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
        guarded = GetOnlyTransport(transport) if transport is not None else None
        extra: dict[str, Any] = {"sleep": sleep} if sleep is not None else {}
        super().__init__(api_key, settings, transport=guarded, rng=rng, **extra)
        self._http.event_hooks["request"].append(_refuse_writes)

    async def request(self, method: str, path: str, *args: Any, **kwargs: Any) -> httpx.Response:
        if method.upper() != ALLOWED_METHOD or kwargs.get("json") is not None:
            raise WriteRefused(method, path)
        return await super().request(method, path, *args, **kwargs)
