"""The asyncio runner of every run that talks to Codat: a Codat error becomes a `RunError`."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Generic, TypeVar

from reconcile.runs.errors import RunError

T = TypeVar("T")


class _Result(Generic[T]):
    """The run's result, with a repr that costs nothing: on leaving, Python 3.11's
    `asyncio.run` formats the SIGINT handler it restores, the main task and so its result, in
    full, twice (`signal.getsignal`), which for a plan of 10,000 customers is a tenth of a
    second of CPU."""

    __slots__ = ("value",)

    def __init__(self, value: T) -> None:
        self.value = value

    def __repr__(self) -> str:
        return "<run result>"


def run(coro: Awaitable[T]) -> T:
    """Run `coro` to its end; a Codat error (the client's typed errors) ends it as a
    `RunError` with the client's message."""
    import asyncio  # only the commands that talk to Codat pay for it

    from reconcile.codat.errors import CodatError

    async def wrapped() -> _Result[T]:
        return _Result(await coro)

    try:
        return asyncio.run(wrapped()).value
    except CodatError as exc:
        raise RunError(str(exc)) from None
