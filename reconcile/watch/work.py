"""What the scheduler has to do next: companies to converge (coalesced) and whether a full pass is
due. Deliveries only add to it (and never wait); the scheduler takes from it.

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
    """One unit of work: a full pass (`company_ids` None) or a pass over these companies."""

    company_ids: frozenset[str] | None


class WorkQueue:
    def __init__(self, max_companies: int = MAX_QUEUED_COMPANIES) -> None:
        self._companies: OrderedDict[str, None] = OrderedDict()
        self._full = False
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

    @property
    def queued(self) -> int:
        return len(self._companies)

    @property
    def full_pass_due(self) -> bool:
        return self._full

    def take(self) -> Batch | None:
        """Everything queued, as one batch (a full pass covers the companies too); None if empty."""
        self._ready.clear()
        if self._full:
            self._full = False
            self._companies.clear()
            return Batch(None)
        if not self._companies:
            return None
        batch = Batch(frozenset(self._companies))
        self._companies.clear()
        return batch

    async def wait(self, timeout: float | None) -> None:
        """Until something is queued or `timeout` seconds pass."""
        if self._full or self._companies:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._ready.wait(), timeout)
