"""The watch run: register the webhook consumer, then serve the receiver and the status app
(the status page, /status, /metrics, POST /resync) and run passes; with `--notify`, the
notifier hears every pass and delivery (`reconcile.notify.watching`).

What the runs decide is here; the controller (`reconcile.watch`) serves and schedules. Addresses
and sockets come from the command line, which checked them.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from reconcile.runs.errors import RunError

DAY_SECONDS = 86_400.0

if TYPE_CHECKING:
    from reconcile.model import DesiredState
    from reconcile.runs.connect import Where
    from reconcile.runs.notify import Notifying
    from reconcile.watch.budget import BudgetSetting
    from reconcile.watch.seen import SeenIds
    from reconcile.watch.signature import Verifier


@dataclass(frozen=True)
class Guarding:
    max_connections: int
    read_deadline: float


@dataclass(frozen=True)
class Reading:
    """What the watch reads, how often: `--config-sweep` (seconds) and `--request-budget`."""

    sweep_seconds: float
    budget: BudgetSetting


@dataclass(frozen=True)
class Listeners:
    public: tuple[str, int]
    internal: tuple[str, int]
    status_hosts: tuple[str, ...]
    resync_token: str | None = None  # the Bearer token of POST /resync (None: not offered)


async def register(
    where: Where, desired: DesiredState, url: str, state_dir: Path, log: Callable[[str], None]
) -> None:
    """`--register URL`: make sure Codat has the webhook consumer. When the environment
    declares it (settings as code), `apply` makes it: here it is only checked."""
    from reconcile.escape import text
    from reconcile.runs.connect import open_client
    from reconcile.watch.registration import STATE_FILE, RegistrationError, ensure_consumer

    env = desired.environments.get(desired.environment or "")
    declared = env.settings.consumer if env is not None and env.settings is not None else None
    async with open_client(where, desired=desired) as client:
        if declared is not None:
            from reconcile.runs.settings import planned_settings

            if declared.url != url:
                raise RunError(
                    f"--register {text(url)} is not the webhook consumer environment"
                    f" {text(str(desired.environment))} declares ({text(declared.url)}):"
                    " register that one"
                )
            if await planned_settings(client, desired):
                env_name = text(str(desired.environment))
                raise RunError(
                    f"the webhook consumer environment {env_name} declares is missing or differs"
                    f" in Codat (or so do its sync settings): run `reconcile apply --env"
                    f" {env_name}` to make them"
                )
            log(f"the declared webhook consumer {text(url)} exists as the file says")
            return
        try:
            lines = await ensure_consumer(client, desired.owner, url, state_dir / STATE_FILE.name)
        except RegistrationError as exc:
            raise RunError(str(exc)) from None
        for line in lines:
            log(line)


async def serve(
    where: Where,
    paths: tuple[Path, ...],
    desired: DesiredState,
    verifier: Verifier,
    seen: SeenIds,
    guarding: Guarding,
    listeners: Listeners,
    resync: float,
    sockets: tuple[socket.socket, socket.socket],
    log: Callable[[str], None],
    notify: Notifying | None = None,
    reading: Reading | None = None,
) -> int:
    """Serve the webhook receiver and the status app on `sockets` (public, internal) and run
    the scheduler's passes, until a signal (`reconcile.watch.controller`): the exit code.
    With `notify`, the notifier hears every pass and delivery, and stops with the watch.
    `reading`: the config sweep's period and the request budget (default: daily, 10%)."""
    from reconcile.facts.account import confirm_account
    from reconcile.runs.connect import open_client
    from reconcile.watch.budget import Budget, BudgetSetting
    from reconcile.watch.controller import serve
    from reconcile.watch.deliveries import Deliveries
    from reconcile.watch.guard import ConnectionGuard
    from reconcile.watch.metrics import Metrics
    from reconcile.watch.passes import default_converge, pass_runner
    from reconcile.watch.receiver import create_app, create_status_app
    from reconcile.watch.reload import DesiredFiles
    from reconcile.watch.resync import ResyncReads
    from reconcile.watch.scheduler import Scheduler
    from reconcile.watch.status import WatchStatus
    from reconcile.watch.sweep import ConfigSweep

    sock, status_sock = sockets
    async with open_client(where, desired=desired) as client:
        await confirm_account(client)  # a key of another account: stop before serving
        files = DesiredFiles(paths, desired)
        reading = reading or Reading(DAY_SECONDS, BudgetSetting())
        budget = Budget(reading.budget, lambda: client.requests_sent)
        reads = ResyncReads(ConfigSweep(reading.sweep_seconds), budget, resync, log)
        status = WatchStatus(desired.owner, desired.files, desired.environment, reads=reads)
        metrics = Metrics()
        metrics.requests(reads)
        notifier = (
            notify.start(client, metrics.registry, log, pass_runner(client, reads))
            if notify
            else None
        )
        converge = default_converge(client, reads) if notifier is None else notifier.converge
        scheduler = Scheduler(converge, files, status, metrics, resync_seconds=resync, log=log)
        app = create_app(
            verifier,
            notifier.hints(scheduler.hint) if notifier else scheduler.hint,
            metrics,
            seen,
            on_delivery=notifier.on_delivery if notifier else None,
            deliveries=Deliveries(status, metrics, log),
        )
        guard = ConnectionGuard(
            guarding.max_connections, guarding.read_deadline, metrics.connection_dropped
        )
        bound = listeners.internal[0]  # its own address is one of its names (not a wildcard)
        own = () if bound in ("0.0.0.0", "::") else (f"[{bound}]" if ":" in bound else bound,)
        status_app = create_status_app(
            metrics,
            status.document,
            (*listeners.status_hosts, *own),
            view=status.view,
            resync=scheduler.resync,
            resync_token=listeners.resync_token,
        )
        log(
            f"watch listening on {_url(sock)} (owner {desired.owner}, "
            f"{len(desired.customers)} customers, resync every {resync:g} s, every expense "
            f"config read once every {reading.sweep_seconds:g} s, request budget "
            f"{reading.budget.describe()})"
        )
        log(f"status page, status and metrics on {_url(status_sock)} (internal)")
        try:
            return await serve(scheduler, [(app, sock), (status_app, status_sock)], guard, log)
        finally:
            seen.close()
            if notifier is not None:
                await notifier.stop()


def _url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
