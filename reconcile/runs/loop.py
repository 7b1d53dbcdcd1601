"""The asyncio runner of every run that talks to Codat: a Codat error becomes a `RunError`."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Generic, TypeVar

from reconcile.runs.errors import RunError

T = TypeVar("T")


class Result(Generic[T]):
    """A run's result as its task holds it, with a short repr.

    Python 3.11's `asyncio.run` looks its SIGINT handler (a partial holding the main task) up in
    an enum after the run; the lookup's error message formats that task's repr, and with it the
    result's full repr: about 1 s for a plan of 10,000 customers, twice, thrown away. Boxed, the
    repr costs nothing."""

    __slots__ = ("value",)

    def __init__(self, value: T) -> None:
        self.value = value

    def __repr__(self) -> str:
        return f"<{type(self.value).__name__}>"


def run(coro: Awaitable[T]) -> T:
    """Run `coro` to its end; a Codat error (the client's typed errors) ends it as a
    `RunError` with the client's message.

    While it runs, the cyclic garbage collector skips what was built before and runs less often
    (`reconcile.bulk.run_gc`)."""
    import asyncio  # only the commands that talk to Codat pay for it

    from reconcile.bulk import run_gc
    from reconcile.codat.errors import CodatError

    async def wrapped() -> Result[T]:
        return Result(await coro)

    try:
        with run_gc():
            return asyncio.run(wrapped()).value
    except CodatError as exc:
        raise RunError(str(exc)) from None
