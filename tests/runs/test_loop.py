"""The runner of every run that talks to Codat: what it costs on the way out."""

from __future__ import annotations

import asyncio
import gc

from reconcile.runs.loop import RUN_GC_THRESHOLD, run


class Costly:
    """A result that counts how often it is formatted (a plan of 10,000 customers is slow to)."""

    formatted = 0

    def __repr__(self) -> str:
        Costly.formatted += 1
        return "costly"


async def result() -> Costly:
    return Costly()


def test_the_result_is_never_formatted_on_the_way_out() -> None:
    """The control: `asyncio.run` itself formats a bare result on the way out (twice on Python
    3.11: the SIGINT handler it restores holds the main task), the runner never does."""
    Costly.formatted = 0
    assert isinstance(asyncio.run(result()), Costly)
    bare = Costly.formatted
    Costly.formatted = 0
    assert isinstance(run(result()), Costly)
    assert (Costly.formatted, bare > 0) == (0, True)


async def collector_state() -> tuple[tuple[int, int, int], int]:
    return gc.get_threshold(), gc.get_freeze_count()


def test_the_collector_skips_what_was_built_before_and_is_put_back() -> None:
    """During a run the collector ignores the objects built before it (the desired file) and
    runs less often; after it, as it was (the control: asyncio.run alone changes neither)."""
    before = gc.get_threshold()
    assert asyncio.run(collector_state()) == (before, 0)
    during_thresholds, frozen = run(collector_state())
    assert during_thresholds == RUN_GC_THRESHOLD != before
    assert frozen > 1000
    assert (gc.get_threshold(), gc.get_freeze_count()) == (before, 0)
