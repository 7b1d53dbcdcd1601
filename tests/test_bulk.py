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


def test_everything_alive_is_frozen_when_the_process_exits() -> None:
    """Run in a child: a hook registered before runs after (atexit is last in, first out)."""
    import subprocess
    import sys

    code = (
        "import atexit, gc\n"
        "atexit.register(lambda: print('frozen', gc.get_freeze_count() > 0))\n"
        "from reconcile.bulk import frozen_at_exit\n"
        "{call}"
    )
    for call, said in (("frozen_at_exit()\n", "frozen True"), ("", "frozen False")):
        run = [sys.executable, "-c", code.format(call=call)]
        out = subprocess.run(run, capture_output=True, text=True, check=True).stdout
        assert out.strip() == said
