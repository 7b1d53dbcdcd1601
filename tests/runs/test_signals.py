"""The one signal helper of apply, converge and watch (`reconcile.runs.signals`): the first
SIGINT/SIGTERM stops the run (start nothing new), a second one exits at once with 130/143.
Real signals sent to this process, handled on a real event loop; `os._exit` is replaced."""

from __future__ import annotations

import asyncio
import os
import signal

import pytest

from reconcile.executor import Stop
from reconcile.runs.signals import EXIT_INTERRUPTED, EXIT_TERMINATED, on_signals, stopped_code


class Exited(Exception):
    pass


def deliver(signums: list[int], monkeypatch: pytest.MonkeyPatch) -> tuple[list[object], int]:
    """Installs the handlers, sends `signums` one after the other, and returns what was heard
    (stops, "at once" calls) and the exit code (0: the process would not have exited)."""
    heard: list[object] = []
    exits: list[int] = []

    def fake_exit(code: int) -> None:
        exits.append(code)
        raise Exited

    monkeypatch.setattr(os, "_exit", fake_exit)

    async def go() -> None:
        restore = on_signals(
            heard.append,
            first=lambda signum: heard.append(f"first {signum}"),
            at_once=lambda signum: heard.append(f"at once {signum}"),
        )
        loop = asyncio.get_running_loop()

        def swallow(loop: asyncio.AbstractEventLoop, context: dict[str, object]) -> None:
            assert isinstance(context.get("exception"), Exited), context  # the fake exit only

        loop.set_exception_handler(swallow)
        try:
            for signum in signums:
                os.kill(os.getpid(), signum)
                for _ in range(50):  # the handler runs on a later turn of the loop
                    await asyncio.sleep(0)
                if exits:
                    break
        finally:
            restore()

    asyncio.run(go())
    return heard, exits[0] if exits else 0


def test_the_first_signal_stops_the_run(monkeypatch: pytest.MonkeyPatch) -> None:
    heard, code = deliver([signal.SIGTERM], monkeypatch)
    assert heard == [f"first {signal.SIGTERM}", Stop("terminate", "terminated")]
    assert code == 0
    assert stopped_code(Stop("terminate", "terminated")) == EXIT_TERMINATED == 143


def test_a_second_signal_exits_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    heard, code = deliver([signal.SIGINT, signal.SIGINT], monkeypatch)
    assert heard == [
        f"first {signal.SIGINT}",
        Stop("interrupt", "interrupted"),
        f"at once {signal.SIGINT}",
    ]
    assert code == EXIT_INTERRUPTED == 130


def test_the_handlers_are_removed_after_the_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """After `restore`, Python's own SIGINT handling is back (a KeyboardInterrupt)."""
    deliver([signal.SIGINT], monkeypatch)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_stop_that_no_signal_made_keeps_the_runs_code() -> None:
    assert stopped_code(Stop("quota", "the daily quota")) is None
    assert stopped_code(None) is None
