"""What the scheduler has to do next: companies to converge (coalesced) and whether a pass of the
whole fleet is due (a full pass, or a resync: `reconcile.watch.resync`). Deliveries only add to
it (and never wait); the scheduler takes from it.

A company asked for again while it is queued is queued once. A company asked for while its pass
runs is queued again: that pass may have read it before the change the event announces.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import OrderedDict
from dataclasses import dataclass

MAX_QUEUED_COMPANIES = 10_000  # beyond it a full pass is cheaper (and covers them all)


@dataclass(frozen=True)
class Batch:
    """One unit of work: a pass of the whole fleet (`company_ids` None; `full`: every expense
    config read, else a resync) or a pass over these companies."""

    company_ids: frozenset[str] | None
    full: bool = True


class WorkQueue:
    def __init__(self, max_companies: int = MAX_QUEUED_COMPANIES) -> None:
        self._companies: OrderedDict[str, None] = OrderedDict()
        self._full = False
        self._resync = False
        self._max = max_companies
        self._ready = asyncio.Event()

    def company(self, company_id: str) -> None:
        if len(self._companies) >= self._max and company_id not in self._companies:
            self.full_pass()
            return
        self._companies[company_id] = None
        self._ready.set()

    def full_pass(self) -> None:
        self._full = True
        self._ready.set()

    def resync(self) -> None:
        """A resync (the timer's): the listing, what changed, the sweep's slice."""
        self._resync = True
        self._ready.set()

    @property
    def queued(self) -> int:
        return len(self._companies)

    def take(self) -> Batch | None:
        """Everything queued, as one batch (a full pass covers the companies too; a resync does
        not read their configs, so queued companies go first); None if empty."""
        self._ready.clear()
        if self._full:
            self._full = self._resync = False
            self._companies.clear()
            return Batch(None)
        if self._companies:
            batch = Batch(frozenset(self._companies))
            self._companies.clear()
            if self._resync:
                self._ready.set()
            return batch
        if self._resync:
            self._resync = False
            return Batch(None, full=False)
        return None

    async def wait(self, timeout: float | None) -> None:
        """Until something is queued or `timeout` seconds pass."""
        if self._full or self._resync or self._companies:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._ready.wait(), timeout)
