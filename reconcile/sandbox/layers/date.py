"""The `Date` header by the sandbox's clock (`store/clock.py`), not the machine's: a client that
reads Codat's time from it (`CodatClient.server_time`) sees the sandbox's time move when `sandbox
clock` moves it. `sandbox serve` has it in the layers (`stack.wrap(date_header=True)`, inside the
faults) and tells uvicorn to add none; an answer a fault makes up (an injected 500 or 429)
carries no `Date`."""

from __future__ import annotations

from email.utils import formatdate

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reconcile.sandbox.layers.common import Clock


class DateHeaderMiddleware:
    def __init__(self, app: ASGIApp, clock: Clock) -> None:
        self.app = app
        self.clock = clock
        self._stamp: tuple[int, bytes] = (-1, b"")  # (second, its header value), as uvicorn's

    def stamp(self) -> bytes:
        second = int(self.clock())
        if second != self._stamp[0]:
            self._stamp = (second, formatdate(second, usegmt=True).encode("latin-1"))
        return self._stamp[1]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def dated(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", ()) if k.lower() != b"date"]
                message = {**message, "headers": [*headers, (b"date", self.stamp())]}
            await send(message)

        await self.app(scope, receive, dated)
