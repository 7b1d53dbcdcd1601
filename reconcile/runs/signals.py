"""SIGINT and SIGTERM for every long run (apply, converge, watch), and their exit codes.

The first signal starts nothing new: the run is stopped with `Stop("interrupt")` or
`Stop("terminate")`, what is in flight finishes, and the command exits 130 or 143 with what it
did so far. A second signal exits at once (after the caller's last word).
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reconcile.executor import Stop

EXIT_INTERRUPTED = 128 + signal.SIGINT  # 130
EXIT_TERMINATED = 128 + signal.SIGTERM  # 143


def exit_for(signum: int) -> int:
    return EXIT_INTERRUPTED if signum == signal.SIGINT else EXIT_TERMINATED


def stopped_code(stop: Stop | None) -> int | None:
    """130 or 143 when a signal stopped the run, else None (the run's own code stands)."""
    if stop is not None and stop.reason == "interrupt":
        return EXIT_INTERRUPTED
    if stop is not None and stop.reason == "terminate":
        return EXIT_TERMINATED
    return None


def on_signals(
    stop: Callable[[Stop], None],
    *,
    first: Callable[[int], None] | None = None,
    at_once: Callable[[int], None] | None = None,
    others: Mapping[int, Callable[[], None]] | None = None,
) -> Callable[[], None]:
    """Install the handlers on the running loop; returns the undo. `first(signum)` speaks
    before the run is stopped, `at_once(signum)` before a second signal ends the process;
    `others` handles more signals (the watch's SIGHUP). Off the main thread (or without
    support) nothing is installed."""
    from reconcile.executor import Stop

    loop = asyncio.get_running_loop()
    received: list[int] = []

    def handle(signum: int) -> None:
        received.append(signum)
        if len(received) > 1:
            if at_once is not None:
                at_once(signum)
            os._exit(exit_for(signum))
        if first is not None:
            first(signum)
        if signum == signal.SIGINT:
            stop(Stop("interrupt", "interrupted"))
        else:
            stop(Stop("terminate", "terminated"))

    handlers: dict[int, Callable[[], None]] = {
        signal.SIGINT: lambda: handle(signal.SIGINT),
        signal.SIGTERM: lambda: handle(signal.SIGTERM),
        **(others or {}),
    }
    installed = []
    for signum, handler in handlers.items():
        try:
            loop.add_signal_handler(signum, handler)
            installed.append(signum)
        except (NotImplementedError, RuntimeError):  # not the main thread, or no support
            pass

    def restore() -> None:
        for signum in installed:
            loop.remove_signal_handler(signum)

    return restore
