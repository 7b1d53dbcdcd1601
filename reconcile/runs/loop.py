"""The asyncio runner of every run that talks to Codat: a Codat error becomes a `RunError`."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Generic, TypeVar

from reconcile.runs.errors import RunError

T = TypeVar("T")
# The collector's thresholds during a run (Python's default: 700, 10, 10). A young generation
# of 50,000 objects is a few MB before cycles are collected; a plan of 100,000 customers holds
# hundreds of MB of fleet that no collection could free.
RUN_GC_THRESHOLD = (50_000, 20, 10)


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
    `RunError` with the client's message.

    While it runs, the cyclic garbage collector skips what was built before (the desired file,
    the imports: `gc.freeze`) and runs less often (`RUN_GC_THRESHOLD`): a plan of thousands of
    requests otherwise spends a third of its CPU re-scanning the fleet it holds, as every
    request's short-lived objects trigger collections (issue 27; benchmarks/RESULTS.md). Both
    are put back when it ends."""
    import asyncio  # only the commands that talk to Codat pay for it
    import gc

    from reconcile.codat.errors import CodatError

    async def wrapped() -> _Result[T]:
        return _Result(await coro)

    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(*RUN_GC_THRESHOLD)
    try:
        return asyncio.run(wrapped()).value
    except CodatError as exc:
        raise RunError(str(exc)) from None
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()
