"""The runner of every run: a result's repr is never computed (it can be huge), and the
collector's settings for a run are put back after it."""

from __future__ import annotations

import asyncio
import gc
import sys

import pytest

from reconcile.bulk import RUN_GC_THRESHOLD
from reconcile.codat.errors import CodatError
from reconcile.runs.errors import RunError
from reconcile.runs.loop import run


class Costly:
    """A result that counts how often it is repr'd (a plan's repr takes seconds at 100k)."""

    def __init__(self) -> None:
        self.reprs = 0

    def __repr__(self) -> str:
        self.reprs += 1
        return "Costly()"


async def make() -> Costly:
    return Costly()


def test_a_runs_result_is_returned_and_never_repred() -> None:
    result = run(make())
    assert isinstance(result, Costly)
    assert result.reprs == 0


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="asyncio.run reprs its task on 3.11")
def test_control_plain_asyncio_run_reprs_the_result() -> None:
    result = asyncio.run(make())
    assert result.reprs > 0


def test_a_codat_error_becomes_a_run_error() -> None:
    async def failing() -> None:
        raise CodatError("Codat said no")

    with pytest.raises(RunError, match="Codat said no"):
        run(failing())


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
