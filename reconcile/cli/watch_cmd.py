"""`watch`: the long-running controller (see reconcile/watch and docs/watch.md).

    reconcile watch PATH... [--listen HOST:PORT] [--status-listen HOST:PORT] [--resync 10m]
                            [--config-sweep 1d] [--request-budget 10%] [--register URL]
                            [--notify FILE]

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
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from reconcile.cli.exits import fail
from reconcile.cli.inputs import load_desired
from reconcile.cli.options import (
    notify_option,
    paths_argument,
    sandbox_options,
    state_dir_option,
    watch_reading_options,
)
from reconcile.cli.runner import run, run_sync
from reconcile.escape import text as escaped

if TYPE_CHECKING:
    from reconcile.runs.connect import Where
    from reconcile.runs.watch import Reading

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
@state_dir_option(
    "Where the watch keeps the ids of deliveries received (so a replay after a restart "
    "is a duplicate), the webhook consumers it created and what --notify told."
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
    help="A converge pass of the whole fleet this often (a lost webhook costs at most this): "
    "the listing, the companies whose listing changed and a slice of the config sweep.",
)
@watch_reading_options
@click.option(
    "--register",
    metavar="URL",
    help="Make sure Codat has a webhook consumer for URL (the public HTTPS address of "
    "/webhooks/codat), with the events the watch needs, for this owner's companies.",
)
@notify_option(
    "The notifications file (the deployment's, never the customers'): the partner's app "
    "and the team's channels; secrets from the environment. See docs/watch.md."
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
    reading: Reading,
) -> None:
    """Keep Codat converged: webhooks as hints, the listing every --resync."""
    from reconcile.loopback import is_loopback
    from reconcile.runs.notify import load_notify
    from reconcile.watch.guard import connection_cap
    from reconcile.watch.seen import FILE_NAME, SeenError, SeenIds
    from reconcile.watch.signature import SecretError, Verifier, secret_from_env

    desired = load_desired(paths, where)
    # Before any request: a bad notifications file stops here.
    notify = run_sync(lambda: load_notify(notify_file, state_dir))
    if register is not None:
        from reconcile.runs.watch import register as register_consumer

        run(register_consumer(where, desired, register, state_dir, _log))
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
    from reconcile.runs.watch import Guarding, Listeners, serve

    guarding = Guarding(connection_cap(max_connections), read_deadline)
    listeners = Listeners(listen, status_listen, status_hosts, resync_token)
    sockets = (_socket(listen, "--listen"), _socket(status_listen, "--status-listen"))
    served = serve(
        where,
        paths,
        desired,
        verifier,
        seen,
        guarding,
        listeners,
        resync,
        sockets,
        _log,
        notify,
        reading,
    )
    sys.exit(run(served))


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


def _socket(where: tuple[str, int], option: str) -> socket.socket:
    from reconcile.loopback import listening_socket

    host, port = where
    try:
        return listening_socket(host, port)
    except OSError as exc:
        fail(f"cannot listen on {escaped(host)}:{port} ({exc.strerror}); choose another {option}")


def _log(message: str) -> None:
    """One log line; Link URLs and ids hidden (`reconcile.render.bearer`): a log is shared."""
    from reconcile.render.bearer import hide

    stamp = datetime.now().astimezone().strftime("%H:%M:%S")
    click.echo(f"{stamp} {hide(message)}", err=True)
    sys.stderr.flush()
