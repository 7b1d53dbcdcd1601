"""Bulk work without the cycle collector's pauses (docs/design.md §10).

Reading a fleet builds hundreds of thousands of small objects that hold no cycles (the desired
file's data and model, Codat's pages, the plan). Python's cycle collector runs every 700
allocations and now and then walks everything alive: about a fifth of a 10,000-customer plan's
CPU, spent finding nothing. `paused_gc()` switches it off for such work and back on (as it was)
after; cycles made meanwhile are collected then, as usual.
"""

from __future__ import annotations

import atexit
import gc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

# The collector's thresholds during a run (Python's default: 700, 10, 10). A young generation
# of 50,000 objects is a few MB before cycles are collected; a plan of 100,000 customers holds
# hundreds of MB of fleet that no collection could free.
RUN_GC_THRESHOLD: Final = (50_000, 20, 10)


@contextmanager
def paused_gc() -> Iterator[None]:
    """The block without the cycle collector; it is switched back on after (if it was on)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextmanager
def settled() -> Iterator[None]:
    """The block with what is alive at its start (a fleet's model) left out of the cycle
    collector's walks (`gc.freeze`), and put back after: the collector still runs, for the
    cycles that reading over HTTP makes, but no longer walks 100,000 customers each time."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


@contextmanager
def run_gc() -> Iterator[None]:
    """A run that talks to Codat (`reconcile.runs.loop.run`): the collector skips what was built
    before it (the desired file, the imports: `gc.freeze`) and runs less often
    (`RUN_GC_THRESHOLD`): a plan of thousands of requests otherwise spends a third of its CPU
    re-scanning the fleet it holds, as every request's short-lived objects trigger collections
    (issue 27; benchmarks/RESULTS.md). Both are put back when it ends."""
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(*RUN_GC_THRESHOLD)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


def frozen_at_exit() -> None:
    """At the process's exit, everything alive is left out of the collections the interpreter
    runs as it shuts down (`gc.freeze` from an `atexit` hook, which runs before them): they walk
    every object a command built (a plan of 10,000 customers ended ~50 ms after its last line,
    now ~20 ms). Objects are still freed as usual. Only a real exit runs it, never a test's
    in-process command (registered once however many run)."""
    atexit.unregister(gc.freeze)
    atexit.register(gc.freeze)
