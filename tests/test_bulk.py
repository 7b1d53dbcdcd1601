"""`paused_gc`: the cycle collector is off inside, and back as it was after."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from reconcile.bulk import paused_gc, settled


@pytest.fixture
def collector_on() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


@pytest.mark.usefixtures("collector_on")
def test_off_inside_on_after() -> None:
    with paused_gc():
        assert not gc.isenabled()
    assert gc.isenabled()


@pytest.mark.usefixtures("collector_on")
def test_back_on_after_an_error() -> None:
    with pytest.raises(RuntimeError), paused_gc():
        raise RuntimeError("boom")
    assert gc.isenabled()


@pytest.mark.usefixtures("collector_on")
def test_left_off_when_it_was_off() -> None:
    gc.disable()
    with paused_gc():
        pass
    assert not gc.isenabled()


def test_settled_leaves_what_was_alive_out_of_the_walks_and_puts_it_back() -> None:
    assert gc.get_freeze_count() == 0
    alive = [object() for _ in range(10)], {"k": []}
    with settled():
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0
    assert alive  # still referenced: nothing was lost
