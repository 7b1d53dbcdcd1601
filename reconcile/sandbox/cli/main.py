"""`reconcile sandbox ...`: serve the sandbox on loopback (which also delivers its webhooks);
play the customer in the Link flow; break and mend a connection as the platform would
(`connection-error`), its data syncs (`data-status`) and its records (`delete-record`); let
time pass (`clock`); show the
webhook consumers' signing secrets (`webhooks`)."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import click

from reconcile.loopback import is_loopback, listening_socket
from reconcile.sandbox.cli.customer import authorize, connection_error, db_option, deauthorize
from reconcile.sandbox.cli.datasets import clock, data_status, delete_record
from reconcile.sandbox.cli.webhooks import webhooks
from reconcile.sandbox.options import (
    CODAT_FORMULA,
    DEFAULT_ACCOUNT_NAME,
    WEBHOOK_RETRY_DELAYS,
    DailyQuota,
    SandboxOptions,
    parse_daily_quota,
    parse_minute_limit,
    parse_retry_delays,
)
from reconcile.sandbox.registry import DEFAULT_PORT, UID_TAG

__all__ = ["UID_TAG", "sandbox"]


class _Group(click.Group):
    """Imports `sandbox seed` (and the store it needs) only when a command line names it or lists
    the commands, so `reconcile validate` does not pay for it."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        _add_seed_command()
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name == "seed":
            _add_seed_command()
        return super().get_command(ctx, cmd_name)


@click.group(cls=_Group)
def sandbox() -> None:
    """A local, stateful Codat for trying things out and for tests."""


def _listening_socket(host: str, port: int) -> socket.socket:
    try:
        return listening_socket(host, port, backlog=2048)
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror}") from None


def _daily_quota(value: str) -> DailyQuota:
    try:
        return parse_daily_quota(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _minute_limit(value: str | None) -> int | None:
    try:
        return None if value is None else parse_minute_limit(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _retry_delays(value: str) -> tuple[float, ...]:
    try:
        return parse_retry_delays(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _rate(value: float) -> float:
    if not 0.0 <= value <= 1.0:
        raise click.BadParameter("a rate is between 0 and 1")
    return value


@sandbox.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="A loopback address.")
@click.option("--port", default=DEFAULT_PORT, show_default=True, help="0 picks a free port.")
@db_option
@click.option(
    "--api-key",
    envvar="SANDBOX_API_KEY",
    help="Accept only this API key (default: any non-empty key). Also SANDBOX_API_KEY.",
)
@click.option(
    "--account-name",
    default=DEFAULT_ACCOUNT_NAME,
    show_default=True,
    help="The Codat account this sandbox stands for: the name GET /profile answers.",
)
@click.option("--omit-integration-key", is_flag=True, help="Leave integrationKey off connections.")
@click.option("--concurrency-limit", default=10, show_default=True, help="Per company.")
@click.option(
    "--daily-quota",
    default=CODAT_FORMULA,
    show_default=True,
    callback=lambda c, p, v: _daily_quota(v),
    help="Requests a day per key: a number, 'codat' (Codat's client limit: the greater of 1000 "
    "and 100 per active connected company) or 'none'.",
)
@click.option(
    "--minute-limit",
    metavar="N",
    callback=lambda c, p, v: _minute_limit(v),
    help="Requests a minute per key, in fixed minutes of the sandbox's clock, as Codat's 1,000 "
    "a minute per IP (over it: 429 with the seconds left in the minute). Default: none.",
)
@click.option("--latency-ms", default=0, show_default=True, help="Added to every request.")
@click.option("--error-rate", default=0.0, callback=lambda c, p, v: _rate(v), help="5xx share.")
@click.option("--throttle-rate", default=0.0, callback=lambda c, p, v: _rate(v), help="429 share.")
@click.option("--drop-rate", default=0.0, callback=lambda c, p, v: _rate(v), help="Dropped share.")
@click.option(
    "--lost-response-rate",
    default=0.0,
    callback=lambda c, p, v: _rate(v),
    help="Share committed but answered with a dropped connection.",
)
@click.option("--seed", type=int, help="Seed of the fault injection (reproducible runs).")
@click.option(
    "--retry-after-seconds",
    default=1,
    show_default=True,
    type=click.IntRange(min=0),
    help="Retry-After of injected 429s and of the concurrency cap.",
)
@click.option(
    "--webhook-drop-rate",
    default=0.0,
    callback=lambda c, p, v: _rate(v),
    help="Share of webhook deliveries lost for good (seeded by --seed).",
)
@click.option(
    "--webhook-duplicate-rate",
    default=0.0,
    callback=lambda c, p, v: _rate(v),
    help="Share of webhook deliveries sent twice, same webhook-id (seeded by --seed).",
)
@click.option(
    "--webhook-retry-delays",
    default=",".join(f"{d:g}" for d in WEBHOOK_RETRY_DELAYS),
    show_default=True,
    callback=lambda c, p, v: _retry_delays(v),
    help="Seconds before each retry of a failed webhook delivery, or 'none'.",
)
@click.option(
    "--webhook-svix-headers",
    is_flag=True,
    help="Sign webhooks under Codat's older svix-id/-timestamp/-signature header names.",
)
@click.option(
    "--one-time-links",
    is_flag=True,
    help="Issue one-time Link URLs, as Codat does for some clients: a fresh linkUrl on each "
    "read of a connection, working once, within a day.",
)
@click.option(
    "--request-log",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Append one JSON line per request to FILE.",
)
def serve(
    host: str,
    port: int,
    db_path: Path,
    api_key: str | None,
    account_name: str,
    omit_integration_key: bool,
    concurrency_limit: int,
    daily_quota: DailyQuota,
    minute_limit: int | None,
    latency_ms: int,
    error_rate: float,
    throttle_rate: float,
    drop_rate: float,
    lost_response_rate: float,
    seed: int | None,
    retry_after_seconds: int,
    webhook_drop_rate: float,
    webhook_duplicate_rate: float,
    webhook_retry_delays: tuple[float, ...],
    webhook_svix_headers: bool,
    one_time_links: bool,
    request_log: Path | None,
) -> None:
    """Serve the sandbox on loopback until interrupted."""
    if not is_loopback(host):
        raise click.ClickException(
            f"refusing to serve on {host}: the sandbox listens on loopback only (e.g. 127.0.0.1)"
        )
    import uvicorn

    from reconcile.sandbox.app import create_app
    from reconcile.sandbox.serving import OneWriteProtocol
    from reconcile.sandbox.store.clock import StoredClock

    options = SandboxOptions(
        db_path=db_path,
        api_key=api_key or None,
        account_name=account_name,
        omit_integration_key=omit_integration_key,
        concurrency_limit=concurrency_limit,
        daily_quota=daily_quota,
        minute_limit=minute_limit,
        seed=seed,
        latency_ms=latency_ms,
        error_rate=error_rate,
        throttle_rate=throttle_rate,
        drop_rate=drop_rate,
        lost_response_rate=lost_response_rate,
        retry_after_seconds=retry_after_seconds,
        deliver_webhooks=True,
        webhook_drop_rate=webhook_drop_rate,
        webhook_duplicate_rate=webhook_duplicate_rate,
        webhook_retry_delays=webhook_retry_delays,
        webhook_svix_headers=webhook_svix_headers,
        one_time_links=one_time_links,
        request_log=request_log,
    )
    clock = StoredClock(db_path)  # the real time, moved by `sandbox clock`
    app = create_app(options, clock=clock, date_header=True)
    sock = _listening_socket(host, port)
    bound_port = sock.getsockname()[1]
    shown_host = f"[{host}]" if ":" in host else host
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            log_level="warning",
            access_log=False,
            lifespan="off",
            date_header=False,
            http=OneWriteProtocol,
        )
    )
    click.echo(
        f"sandbox listening on http://{shown_host}:{bound_port} (state in {db_path})", err=True
    )
    sys.stderr.flush()
    server.run(sockets=[sock])


for _command in (
    authorize,
    deauthorize,
    connection_error,
    data_status,
    delete_record,
    clock,
    webhooks,
):
    sandbox.add_command(_command)


def _add_seed_command() -> None:
    """`sandbox seed` is imported only when it is named or listed (it needs the store)."""
    if "seed" not in sandbox.commands:
        from reconcile.sandbox.seed.population import seed_command

        sandbox.add_command(seed_command)
