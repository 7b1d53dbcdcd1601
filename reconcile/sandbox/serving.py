"""How `sandbox serve` speaks HTTP: uvicorn's httptools protocol, each answer written in one piece.

uvicorn writes an answer's status line and headers to the socket as soon as the app sends
`http.response.start`, and its body as a second write. On loopback each write to a socket is a
system call that also runs the whole TCP path to the reader, the largest single cost of a small
answer (issue 27). Here the protocol's transport gathers what is written while the app runs and
hands it to the socket once, at the end of that turn of the event loop: the head and body of an
answer (sent by the app one after the other, without waiting in between) leave together. Nothing
is held back longer: a body sent in several parts leaves each turn, and closing or aborting the
connection first writes what was gathered.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class GatheringTransport:
    """A transport that writes what it was given once per turn of the event loop; everything
    else goes to the real one."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._gathered: list[bytes] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not self._gathered:
            self._loop.call_soon(self.flush)
        self._gathered.append(bytes(data))

    def flush(self) -> None:
        if not self._gathered:
            return
        data = b"".join(self._gathered)
        self._gathered.clear()
        if not self._transport.is_closing():
            self._transport.write(data)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def abort(self) -> None:
        self.flush()
        self._transport.abort()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class OneWriteProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol over a `GatheringTransport`."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        # Typed as uvicorn's: uvloop's transports are not `asyncio.Transport` subclasses either.
        gathering: Any = GatheringTransport(transport, self.loop)
        super().connection_made(gathering)
