"""Bulk work without the cycle collector's pauses (docs/design.md §10).

Reading a fleet builds hundreds of thousands of small objects that hold no cycles (the desired
file's data and model, Codat's pages, the plan). Python's cycle collector runs every 700
allocations and now and then walks everything alive: about a fifth of a 10,000-customer plan's
CPU, spent finding nothing. `paused_gc()` switches it off for such work and back on (as it was)
after; cycles made meanwhile are collected then, as usual.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


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
