"""`watch`: the long-running controller (see reconcile/watch and docs/watch.md).

    reconcile watch PATH... [--listen HOST:PORT] [--status-listen HOST:PORT] [--resync 10m]
                            [--register URL] [--notify FILE]

Serves POST /webhooks/codat (Standard Webhooks signatures, secret from CODAT_WEBHOOK_SECRET or
CODAT_WEBHOOK_SECRET_FILE) and GET /healthz on --listen, and the status page (GET /,
/customers/UID), GET /status, /metrics, /healthz and POST /resync (Bearer token from
RECONCILE_WATCH_TOKEN or RECONCILE_WATCH_TOKEN_FILE) on --status-listen (internal: loopback
names and --status-host only). Runs until SIGTERM (exit 143) or SIGINT (exit 130); exit 1 on bad
input or when it cannot start. With --notify, tells the partner's app and the team what changed
after each pass (reconcile/notify).
"""

from __future__ import annotations

import socket
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from reconcile.cli.common import (
    Where,
    fail,
    load_desired,
    open_client,
    paths_argument,
    run,
    sandbox_options,
)
from reconcile.cli.notify_opts import load_notify
from reconcile.escape import text as escaped

if TYPE_CHECKING:
    from reconcile.cli.notify_opts import Notifying
    from reconcile.codat import CodatClient
    from reconcile.model import DesiredState
    from reconcile.watch.seen import SeenIds
    from reconcile.watch.signature import Verifier

TOKEN_ENV = "RECONCILE_WATCH_TOKEN"
TOKEN_FILE_ENV = "RECONCILE_WATCH_TOKEN_FILE"
MIN_TOKEN_CHARS = 16
DEFAULT_LISTEN = "127.0.0.1:8787"
DEFAULT_STATUS_LISTEN = "127.0.0.1:8788"


def _listen(ctx: click.Context, param: click.Parameter, value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise click.BadParameter(f"{value!r} is not HOST:PORT (e.g. {DEFAULT_LISTEN})")
    return host, int(port)


def _resync(ctx: click.Context, param: click.Parameter, value: str) -> float:
    from reconcile.durations import parse_duration

    try:
        return parse_duration(value).total_seconds()
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@click.command()
@paths_argument
@sandbox_options
@click.option(
    "--listen",
    default=DEFAULT_LISTEN,
    show_default=True,
    callback=_listen,
    metavar="HOST:PORT",
    help="Where to serve the webhook receiver and /healthz (port 0: any free port). Put HTTPS "
    "in front of it; bind beyond loopback only behind that.",
)
@click.option(
    "--status-listen",
    default=DEFAULT_STATUS_LISTEN,
    show_default=True,
    callback=_listen,
    metavar="HOST:PORT",
    help="Where to serve /status, /metrics and /healthz: internal only, never behind the "
    "public proxy (port 0: any free port).",
)
@click.option(
    "--status-host",
    "status_hosts",
    multiple=True,
    metavar="NAME",
    help="A host name /status and /metrics answer to, besides loopback names and the "
    "--status-listen address (e.g. the name Prometheus scrapes). Repeatable.",
)
@click.option(
    "--state-dir",
    default=".reconcile",
    show_default=True,
    type=click.Path(path_type=Path),
    help="Where the watch keeps the ids of deliveries received (so a replay after a restart "
    "is a duplicate), the webhook consumers it created and what --notify told.",
)
@click.option(
    "--max-connections",
    type=click.IntRange(min=1),
    help="Open connections at most, over both listeners (default 512, lowered to fit the "
    "file descriptor limit). Past it, the oldest connection still sending its request is closed.",
)
@click.option(
    "--read-deadline",
    default=10.0,
    show_default=True,
    type=click.FloatRange(min=0.05, max=300),
    metavar="SECONDS",
    help="A request's headers and body must arrive within this; a slower client is disconnected.",
)
@click.option(
    "--resync",
    default="10m",
    show_default=True,
    callback=_resync,
    metavar="DURATION",
    help="A full converge pass this often (a lost webhook costs at most this).",
)
@click.option(
    "--register",
    metavar="URL",
    help="Make sure Codat has a webhook consumer for URL (the public HTTPS address of "
    "/webhooks/codat), with the events the watch needs, for this owner's companies.",
)
@click.option(
    "--notify",
    "notify_file",
    type=click.Path(path_type=Path),
    metavar="FILE",
    help="The notifications file (the deployment's, never the customers'): the partner's app "
    "and the team's channels; secrets from the environment. See docs/watch.md.",
)
def watch(
    paths: tuple[Path, ...],
    where: Where,
    listen: tuple[str, int],
    status_listen: tuple[str, int],
    status_hosts: tuple[str, ...],
    state_dir: Path,
    max_connections: int | None,
    read_deadline: float,
    resync: float,
    register: str | None,
    notify_file: Path | None,
) -> None:
    """Keep Codat converged: webhooks as hints, a full pass every --resync."""
    from reconcile.loopback import is_loopback
    from reconcile.watch.guard import connection_cap
    from reconcile.watch.seen import FILE_NAME, SeenError, SeenIds
    from reconcile.watch.signature import SecretError, Verifier, secret_from_env

    desired = load_desired(paths, where)
    notify = load_notify(notify_file, state_dir)  # before any request: a bad file stops here
    if register is not None:
        run(_register(where, desired, register, state_dir))
    try:
        verifier = Verifier(secret_from_env(environment=desired.environment))
    except SecretError as exc:
        fail(str(exc))
    resync_token = _resync_token()
    try:
        seen = SeenIds(state_dir / FILE_NAME)
    except SeenError as exc:
        fail(escaped(str(exc)))
    for (host, _port), what in ((listen, "--listen"), (status_listen, "--status-listen")):
        if not is_loopback(host):
            _log(
                f"{what} {escaped(host)} is beyond loopback: docs/watch.md says who may "
                "reach it and what must be in front of it"
            )
    guarding = Guarding(connection_cap(max_connections), read_deadline)
    listeners = Listeners(listen, status_listen, status_hosts, resync_token)
    sys.exit(
        run(_serve(where, paths, desired, verifier, seen, guarding, listeners, resync, notify))
    )


@dataclass(frozen=True)
class Guarding:
    max_connections: int
    read_deadline: float


@dataclass(frozen=True)
class Listeners:
    public: tuple[str, int]
    internal: tuple[str, int]
    status_hosts: tuple[str, ...]
    resync_token: str | None = None


def _resync_token() -> str | None:
    """The Bearer token of POST /resync (None: not offered), from the environment or a file."""
    import os

    value = os.environ.get(TOKEN_ENV)
    source = TOKEN_ENV
    path = os.environ.get(TOKEN_FILE_ENV)
    if path:
        source = TOKEN_FILE_ENV
        try:
            value = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            fail(f"{TOKEN_FILE_ENV}: cannot read {escaped(path)} ({exc}); name a readable file")
    if value is None:
        return None
    value = value.strip()
    if len(value) < MIN_TOKEN_CHARS:
        fail(
            f"{source} holds fewer than {MIN_TOKEN_CHARS} characters: anyone could guess it; "
            "use a long random token (e.g. `openssl rand -hex 32`)"
        )
    return value


async def _register(where: Where, desired: DesiredState, url: str, state_dir: Path) -> None:
    from reconcile.watch.registration import STATE_FILE, RegistrationError, ensure_consumer

    env = desired.environments.get(desired.environment or "")
    declared = env.settings.consumer if env is not None and env.settings is not None else None
    async with open_client(where, desired=desired) as client:
        if declared is not None:  # settings as code: `apply` makes it; here it is only checked
            from reconcile.cli.account_settings import planned_settings

            if declared.url != url:
                fail(
                    f"--register {escaped(url)} is not the webhook consumer environment"
                    f" {escaped(str(desired.environment))} declares ({escaped(declared.url)}):"
                    " register that one"
                )
            if await planned_settings(client, desired):
                env_name = escaped(str(desired.environment))
                fail(
                    f"the webhook consumer environment {env_name} declares is missing or differs"
                    f" in Codat (or so do its sync settings): run `reconcile apply --env"
                    f" {env_name}` to make them"
                )
            _log(f"the declared webhook consumer {escaped(url)} exists as the file says")
            return
        try:
            lines = await ensure_consumer(client, desired.owner, url, state_dir / STATE_FILE.name)
        except RegistrationError as exc:
            fail(str(exc))
        for line in lines:
            _log(line)


async def _serve(
    where: Where,
    paths: tuple[Path, ...],
    desired: DesiredState,
    verifier: Verifier,
    seen: SeenIds,
    guarding: Guarding,
    listeners: Listeners,
    resync: float,
    notify: Notifying | None = None,
) -> int:
    from reconcile.watch.controller import serve
    from reconcile.watch.deliveries import Deliveries
    from reconcile.watch.guard import ConnectionGuard
    from reconcile.watch.metrics import Metrics
    from reconcile.watch.passes import default_converge
    from reconcile.watch.receiver import create_app, create_status_app
    from reconcile.watch.reload import DesiredFiles
    from reconcile.watch.scheduler import Scheduler
    from reconcile.watch.status import WatchStatus

    sock = _socket(listeners.public, "--listen")
    status_sock = _socket(listeners.internal, "--status-listen")
    client: CodatClient
    async with open_client(where, desired=desired) as client:
        await client.confirm_account()  # a key of another account: stop before serving
        files = DesiredFiles(paths, desired)
        status = WatchStatus(desired.owner, desired.files, desired.environment)
        metrics = Metrics()
        notifier = notify.start(client, metrics.registry, _log) if notify else None
        converge = default_converge(client) if notifier is None else notifier.converge
        scheduler = Scheduler(converge, files, status, metrics, resync_seconds=resync, log=_log)
        app = create_app(
            verifier,
            notifier.hints(scheduler.hint) if notifier else scheduler.hint,
            metrics,
            seen,
            on_delivery=notifier.on_delivery if notifier else None,
            deliveries=Deliveries(status, metrics, _log),
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
        _log(
            f"watch listening on {_url(sock)} (owner {desired.owner}, "
            f"{len(desired.customers)} customers, resync every {resync:g} s)"
        )
        _log(f"status page, status and metrics on {_url(status_sock)} (internal)")
        try:
            return await serve(scheduler, [(app, sock), (status_app, status_sock)], guard, _log)
        finally:
            seen.close()
            if notifier is not None:
                await notifier.stop()


def _socket(where: tuple[str, int], option: str) -> socket.socket:
    from reconcile.watch.controller import listening_socket

    host, port = where
    try:
        return listening_socket(host, port)
    except OSError as exc:
        fail(f"cannot listen on {escaped(host)}:{port} ({exc.strerror}); choose another {option}")


def _url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _log(message: str) -> None:
    """One log line; Link URLs and ids hidden (`reconcile.render.bearer`): a log is shared."""
    from reconcile.render.bearer import hide

    stamp = datetime.now().astimezone().strftime("%H:%M:%S")
    click.echo(f"{stamp} {hide(message)}", err=True)
    sys.stderr.flush()
