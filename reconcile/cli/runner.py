"""Runs a run: its `RunError` (a Codat error included) ends the command, exit 1."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from reconcile.cli.exits import fail

T = TypeVar("T")


def run(coro: Awaitable[T]) -> T:
    """`coro` run to its end (its `RunError` ends the command)."""
    from reconcile.runs.loop import run as run_loop

    return run_sync(lambda: run_loop(coro))


def run_sync(call: Callable[[], T]) -> T:
    """A run that needs no event loop (its `RunError` ends the command as well)."""
    from reconcile.runs.errors import RunError

    try:
        return call()
    except RunError as exc:
        fail(str(exc))
