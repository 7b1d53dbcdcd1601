"""Serve the receiver and run the scheduler in one event loop, until SIGTERM or SIGINT.

The first SIGTERM (SIGINT) starts nothing new, lets the pass in flight finish what it sent and
exits 143 (130), as `apply` does; a second one exits at once. SIGHUP re-reads the desired files
and starts a full pass.
uvicorn's own signal handling is switched off: the watch decides when the server stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
from collections.abc import Callable, Iterator

import uvicorn
from starlette.types import ASGIApp

from reconcile.executor import Stop
from reconcile.runs.signals import EXIT_TERMINATED, on_signals, stopped_code
from reconcile.watch.guard import AcceptErrors, ConnectionGuard, accept_batch
from reconcile.watch.scheduler import Scheduler

EXIT_ERROR = 1


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:  # the watch installs its own
        yield


async def serve(
    scheduler: Scheduler,
    listeners: list[tuple[ASGIApp, socket.socket]],
    guard: ConnectionGuard,
    log: Callable[[str], None],
) -> int:
    """Serve each app on its socket, all under `guard`, until stopped; returns the exit code
    (130 after SIGINT, 143 after SIGTERM)."""
    servers = [
        _Server(
            uvicorn.Config(
                app,
                http=guard.protocol(),
                backlog=accept_batch(guard.max_connections),
                log_level="error",  # not a line per malformed request: that floods the log
                access_log=False,
                lifespan="off",
            )
        )
        for app, _sock in listeners
    ]
    restore = _install_signals(scheduler, log)
    restore_errors = AcceptErrors(log).install(asyncio.get_running_loop())
    server_tasks = [
        asyncio.create_task(server.serve(sockets=[sock]))
        for server, (_app, sock) in zip(servers, listeners, strict=True)
    ]
    failed: list[str] = []

    def server_ended(task: asyncio.Task[None]) -> None:
        if scheduler.stop_reason is None:  # not asked to: without it no delivery is heard
            error = task.exception() if not task.cancelled() else None
            failed.append(f"the HTTP server stopped ({type(error).__name__ if error else 'exit'})")
            log(failed[0] + "; stopping")
            scheduler.stop(Stop("terminate", failed[0]))

    for task in server_tasks:
        task.add_done_callback(server_ended)
    try:
        await scheduler.run()
    finally:
        for server in servers:
            server.should_exit = True
        await asyncio.gather(*server_tasks, return_exceptions=True)
        restore()
        restore_errors()
    if failed:
        return EXIT_ERROR
    return stopped_code(scheduler.stop_reason) or EXIT_TERMINATED


def _install_signals(scheduler: Scheduler, log: Callable[[str], None]) -> Callable[[], None]:
    def first(signum: int) -> None:
        name = "SIGINT" if signum == signal.SIGINT else "SIGTERM"
        log(f"{name}: starting nothing new; the pass in flight finishes what it sent.")

    def at_once(signum: int) -> None:
        log("Exiting at once; requests in flight may have landed (the next pass checks).")

    return on_signals(
        scheduler.stop,
        first=first,
        at_once=at_once,
        others={signal.SIGHUP: lambda: scheduler.reload("SIGHUP", full_pass=True)},
    )
