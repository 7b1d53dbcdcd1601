"""The asyncio runner of every run that talks to Codat: a Codat error becomes a `RunError`."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

from reconcile.runs.errors import RunError

T = TypeVar("T")


def run(coro: Awaitable[T]) -> T:
    """Run `coro` to its end; a Codat error (the client's typed errors) ends it as a
    `RunError` with the client's message."""
    import asyncio  # only the commands that talk to Codat pay for it

    from reconcile.codat.errors import CodatError

    async def wrapped() -> T:
        return await coro

    try:
        return asyncio.run(wrapped())
    except CodatError as exc:
        raise RunError(str(exc)) from None
