"""`watch`: the long-running controller (see reconcile/watch and docs/watch.md).

    reconcile watch PATH... [--listen HOST:PORT] [--resync 10m] [--register URL]

Serves POST /webhooks/codat (Standard Webhooks signatures, secret from CODAT_WEBHOOK_SECRET or
CODAT_WEBHOOK_SECRET_FILE), GET /healthz, /metrics, /status. Runs until SIGTERM (exit 143) or
SIGINT (exit 130); exit 1 on bad input or when it cannot start.
"""

from __future__ import annotations

import sys
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

if TYPE_CHECKING:
    from reconcile.codat import CodatClient
    from reconcile.model import DesiredState
    from reconcile.watch.signature import Verifier

DEFAULT_LISTEN = "127.0.0.1:8787"


def _listen(ctx: click.Context, param: click.Parameter, value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise click.BadParameter(f"{value!r} is not HOST:PORT (e.g. {DEFAULT_LISTEN})")
    return host, int(port)


def _resync(ctx: click.Context, param: click.Parameter, value: str) -> float:
    from reconcile.audit.duration import parse_duration

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
    help="Where to serve the webhook receiver, /healthz, /metrics and /status (port 0: any "
    "free port). Put HTTPS in front of it; bind beyond loopback only behind that.",
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
def watch(
    paths: tuple[Path, ...],
    where: Where,
    listen: tuple[str, int],
    resync: float,
    register: str | None,
) -> None:
    """Keep Codat converged: webhooks as hints, a full pass every --resync."""
    from reconcile.loopback import is_loopback
    from reconcile.watch.signature import SecretError, Verifier, secret_from_env

    desired = load_desired(paths, where)
    host, port = listen
    if register is not None:
        run(_register(where, desired, register))
    try:
        verifier = Verifier(secret_from_env(environment=desired.environment))
    except SecretError as exc:
        fail(str(exc))
    if not is_loopback(host):
        _log(f"listening on {host}, beyond loopback: serve it only behind HTTPS (docs/watch.md)")
    sys.exit(run(_serve(where, paths, desired, verifier, host, port, resync)))


async def _register(where: Where, desired: DesiredState, url: str) -> None:
    from reconcile.watch.registration import RegistrationError, ensure_consumer

    async with open_client(where, desired=desired) as client:
        try:
            lines = await ensure_consumer(client, desired.owner, url)
        except RegistrationError as exc:
            fail(str(exc))
        for line in lines:
            _log(line)


async def _serve(
    where: Where,
    paths: tuple[Path, ...],
    desired: DesiredState,
    verifier: Verifier,
    host: str,
    port: int,
    resync: float,
) -> int:
    from reconcile.watch.controller import listening_socket, serve
    from reconcile.watch.metrics import Metrics
    from reconcile.watch.passes import default_converge
    from reconcile.watch.receiver import create_app
    from reconcile.watch.reload import DesiredFiles
    from reconcile.watch.scheduler import Scheduler
    from reconcile.watch.status import WatchStatus

    try:
        sock = listening_socket(host, port)
    except OSError as exc:
        fail(f"cannot listen on {host}:{port} ({exc.strerror}); choose another --listen")
    client: CodatClient
    async with open_client(where, desired=desired) as client:
        await client.confirm_account()  # a key of another account: stop before serving
        files = DesiredFiles(paths, desired)
        status = WatchStatus(desired.owner, desired.files, desired.environment)
        metrics = Metrics()
        scheduler = Scheduler(
            default_converge(client), files, status, metrics, resync_seconds=resync, log=_log
        )
        app = create_app(verifier, scheduler.hint, metrics, status.document)
        bound = sock.getsockname()[1]
        shown = f"[{host}]" if ":" in host else host
        _log(
            f"watch listening on http://{shown}:{bound} (owner {desired.owner}, "
            f"{len(desired.customers)} customers, resync every {resync:g} s)"
        )
        return await serve(scheduler, app, sock, _log)


def _log(message: str) -> None:
    """One log line; Link URLs and ids hidden (`reconcile.render.bearer`): a log is shared."""
    from reconcile.render.bearer import hide

    stamp = datetime.now().astimezone().strftime("%H:%M:%S")
    click.echo(f"{stamp} {hide(message)}", err=True)
    sys.stderr.flush()
