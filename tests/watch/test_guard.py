"""The guard's pieces on their own: accept errors become one line per interval with a count
(an injected clock, the context asyncio passes); the connection cap fits the fd limit."""

from __future__ import annotations

import asyncio
import errno
import inspect
import os
import resource
from asyncio import selector_events
from typing import Any

import pytest

from reconcile.watch.guard import ACCEPT_FAILED, AcceptErrors, accept_batch, connection_cap
from tests.support.virtual_time import SetClock


def emfile() -> dict[str, Any]:
    return {
        "message": ACCEPT_FAILED,
        "exception": OSError(errno.EMFILE, os.strerror(errno.EMFILE)),
    }


def test_the_message_is_the_one_asyncio_reports() -> None:
    assert f"'message': '{ACCEPT_FAILED}'" in inspect.getsource(selector_events)


def test_accept_errors_are_one_line_per_interval_with_a_count() -> None:
    lines: list[str] = []
    clock = SetClock(1000.0)
    handler = AcceptErrors(lines.append, interval=60, clock=clock)
    loop = asyncio.new_event_loop()
    try:
        for _ in range(500):  # asyncio retries accept() every second per listener
            handler(loop, emfile())
            clock.now += 0.1
        assert len(lines) == 1 and "Too many open files" in lines[0]
        assert "1 failed" in lines[0]
        clock.now = 1059.0  # not yet 60 s after the first line
        handler(loop, emfile())
        assert len(lines) == 1
        clock.now = 1060.0
        handler(loop, emfile())
        assert len(lines) == 2 and "501 failed" in lines[1], lines
    finally:
        loop.close()


def test_other_loop_errors_still_reach_the_default_handler(
    caplog: pytest.LogCaptureFixture,
) -> None:
    lines: list[str] = []
    loop = asyncio.new_event_loop()
    try:
        AcceptErrors(lines.append, clock=SetClock(1000.0))(loop, {"message": "something else"})
    finally:
        loop.close()
    assert lines == [] and "something else" in caplog.text


def test_the_cap_leaves_room_in_the_fd_limit() -> None:
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    cap = connection_cap(10**6)
    assert cap <= (soft - 32) // 2
    # a burst accepted before the guard sees it fits the other half
    assert cap + 3 * accept_batch(cap) < soft
    assert connection_cap(5) == min(5, cap)
