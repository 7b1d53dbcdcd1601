"""The config sweep: every configured customer's expense config read once per sweep period
(`--config-sweep`, daily by default), a slice at each resync, never in one burst.

Codat has no bulk read of expense configs and nothing in the company listing changes when one
is edited, so a config changed behind the watch's back (drift) is found by reading it. The sweep
owes `due x elapsed / period` reads at each resync (the fraction of the period since the last
one; a fraction below one read carries on), takes them in the order of the company ids it has
not read this round, and starts a new round when every due company was read. A config read for
another reason (a listing change, a webhook, a full pass) counts as read this round. When the
request budget allows less than is owed, it takes what the budget allows (never less than one
config a resync while one is owed: drift must still be found) and forgets the rest of the debt:
the sweep slows (the round takes longer), it never bursts to catch up.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass

EPSILON = 1e-9


@dataclass(frozen=True)
class Slice:
    ids: tuple[str, ...]  # the configs to read at this resync
    owed: int  # what the period's pace asked for
    slowed: bool  # the budget allowed less than owed


class ConfigSweep:
    def __init__(self, period_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.period_seconds = period_seconds
        self.clock = clock
        self.rounds = 0  # rounds completed: every due config read once
        self._read: set[str] = set()  # read this round
        self._due = 0
        self._owed = 0.0
        self._last: float | None = None

    def take(self, due: Sequence[str], skip: Collection[str], allowance: float | None) -> Slice:
        """The slice of `due` to read now (`skip`: read now anyway, for another reason)."""
        now = self.clock()
        elapsed = 0.0 if self._last is None else max(0.0, now - self._last)
        self._last = now
        self._due = len(due)
        self._owed = min(float(len(due)), self._owed + len(due) * elapsed / self.period_seconds)
        owed = int(self._owed + EPSILON)
        take = owed if allowance is None else min(owed, max(1, int(allowance + EPSILON)))
        due_set = set(due)
        self._read &= due_set
        if due_set and self._read >= due_set:
            self._new_round()
        left = sorted(due_set - self._read - set(skip))
        picked = left[:take]
        # What was owed is paid: read, forgiven by the budget, or owed by a round that ran out
        # (its next round starts on pace); only the fraction below one read carries on.
        self._owed -= owed
        return Slice(tuple(picked), owed, take < owed)

    def read(self, ids: Iterable[str]) -> None:
        """These configs were read (by the sweep or for another reason)."""
        self._read.update(ids)

    def read_all(self, due: Collection[str]) -> None:
        """A full pass read every due config: this round is done, the next starts now."""
        self._due = len(due)
        self._read = set(due)
        self._new_round()
        self._owed = 0.0
        self._last = self.clock()

    def _new_round(self) -> None:
        self.rounds += 1
        self._read = set()

    @property
    def read_this_round(self) -> int:
        return len(self._read)

    @property
    def due(self) -> int:
        return self._due
