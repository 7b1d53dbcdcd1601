"""An asyncio event loop on a virtual clock: `asyncio.sleep`, timeouts and `loop.time()` run on
it, and whenever nothing is ready the clock jumps to the next timer instead of waiting. Tests of
code that waits (pacing, retries) get exact times without a wall-clock sleep.

`run_virtual(main)` runs `main()` on such a loop; inside, `asyncio.get_running_loop().time()`
is the virtual time, from 0.
"""

from __future__ import annotations

import asyncio
import selectors
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

T = TypeVar("T")


class _JumpingSelector(selectors.DefaultSelector):
    """Polls without blocking; when nothing is ready, moves the loop's clock by the timeout the
    loop would have waited."""

    def __init__(self, loop: VirtualTimeLoop) -> None:
        super().__init__()
        self._loop = loop

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        events = super().select(0)
        if events or timeout == 0:
            return events
        if timeout is None:
            raise RuntimeError("every task waits and no timer is due: a deadlock")
        self._loop.now += timeout
        return events


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    def __init__(self) -> None:
        self.now = 0.0
        super().__init__(selector=_JumpingSelector(self))

    def time(self) -> float:
        return self.now


def run_virtual(main: Callable[[], Awaitable[T]]) -> T:
    """`main()` on a fresh `VirtualTimeLoop`, to completion."""

    async def go() -> Any:
        return await main()

    with asyncio.Runner(loop_factory=VirtualTimeLoop) as runner:
        result: T = runner.run(go())
        return result


def clock() -> float:
    """The running loop's time (virtual on a `VirtualTimeLoop`)."""
    return asyncio.get_running_loop().time()


class MovingClock:
    """Seconds since the epoch that a test moves on (`shift`) instead of sleeping: the
    machine's time plus what has been shifted. Give one to everything that must agree on the
    time (a sandbox's store and layers, and so the `Date` its answers carry)."""

    def __init__(self) -> None:
        self.shifted = 0.0

    def __call__(self) -> float:
        return time.time() + self.shifted

    def shift(self, seconds: float) -> None:
        self.shifted += seconds


class SetClock:
    """Seconds since the epoch that a test sets (`clock.now += 10`): nothing moves it else."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now
