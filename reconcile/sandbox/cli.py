"""`reconcile sandbox ...`: serve the sandbox on loopback; play the customer in the Link flow."""

from __future__ import annotations

import importlib
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import click

from reconcile.loopback import is_loopback
from reconcile.sandbox.options import SandboxOptions
from reconcile.sandbox.registry import UID_TAG

if TYPE_CHECKING:
    from reconcile.sandbox.store import Store

DEFAULT_DB: Final = Path(".reconcile") / "sandbox.db"
DEFAULT_PORT: Final = 8765

db_option = click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_DB,
    show_default=True,
    help="The sandbox's SQLite state file.",
)


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
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets it recognises as TCP;
    # with protocol 0 every response waits ~40 ms on Nagle + delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.listen(2048)
    return sock


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
@click.option("--omit-integration-key", is_flag=True, help="Leave integrationKey off connections.")
@click.option("--concurrency-limit", default=10, show_default=True, help="Per company.")
@click.option("--daily-quota", type=int, help="Requests a day (default: Codat's formula).")
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
    "--request-log",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Append one JSON line per request to FILE.",
)
def serve(
    host: str,
    port: int,
    db_path: Path,
    api_key: str | None,
    omit_integration_key: bool,
    concurrency_limit: int,
    daily_quota: int | None,
    latency_ms: int,
    error_rate: float,
    throttle_rate: float,
    drop_rate: float,
    lost_response_rate: float,
    seed: int | None,
    retry_after_seconds: int,
    request_log: Path | None,
) -> None:
    """Serve the sandbox on loopback until interrupted."""
    if not is_loopback(host):
        raise click.ClickException(
            f"refusing to serve on {host}: the sandbox listens on loopback only (e.g. 127.0.0.1)"
        )
    import uvicorn

    from reconcile.sandbox.app import create_app

    options = SandboxOptions(
        db_path=db_path,
        api_key=api_key or None,
        omit_integration_key=omit_integration_key,
        concurrency_limit=concurrency_limit,
        daily_quota=daily_quota,
        seed=seed,
        latency_ms=latency_ms,
        error_rate=error_rate,
        throttle_rate=throttle_rate,
        drop_rate=drop_rate,
        lost_response_rate=lost_response_rate,
        retry_after_seconds=retry_after_seconds,
        request_log=request_log,
    )
    app = create_app(options)
    sock = _listening_socket(host, port)
    bound_port = sock.getsockname()[1]
    shown_host = f"[{host}]" if ":" in host else host
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    )
    click.echo(
        f"sandbox listening on http://{shown_host}:{bound_port} (state in {db_path})", err=True
    )
    sys.stderr.flush()
    server.run(sockets=[sock])


def _store(db_path: Path) -> Store:
    if not db_path.exists():
        raise click.ClickException(f"no sandbox state at {db_path}")
    from reconcile.sandbox.store import Store

    return Store(db_path)


def _company(store: Store, uid: str | None, company_id: str | None) -> dict[str, Any]:
    if uid is None and company_id is not None:
        company = store.get_company(company_id)
        if company is None:
            raise click.ClickException(f"no company {company_id}")
        return company
    if uid is None or company_id is not None:
        raise click.ClickException("give exactly one of --uid and --company")
    found = store.find_companies_by_tag(UID_TAG, uid)
    if not found:
        raise click.ClickException(f"no company tagged {UID_TAG}={uid}")
    if len(found) > 1:
        ids = ", ".join(c["id"] for c in found)
        raise click.ClickException(f"{len(found)} companies are tagged {UID_TAG}={uid}: {ids}")
    return found[0]


def _accounting_connection(
    company: dict[str, Any], connection_id: str | None, statuses: tuple[str, ...], verb: str
) -> dict[str, Any]:
    connections = [c for c in company["dataConnections"] if c["sourceType"] == "Accounting"]
    if connection_id is not None:
        connections = [c for c in connections if c["id"] == connection_id]
        if not connections:
            raise click.ClickException(
                f"company {company['id']} has no accounting connection {connection_id}"
            )
    for status in statuses:
        candidates = [c for c in connections if c["status"] == status]
        if len(candidates) > 1:
            ids = ", ".join(c["id"] for c in candidates)
            raise click.ClickException(
                f"company {company['id']} has several {status} accounting connections ({ids});"
                " choose one with --connection"
            )
        if candidates:
            chosen: dict[str, Any] = candidates[0]
            return chosen
    wanted = " or ".join(statuses)
    raise click.ClickException(
        f"company {company['id']} has no {wanted} accounting connection to {verb}"
    )


def _simulate(
    db_path: Path,
    uid: str | None,
    company_id: str | None,
    connection_id: str | None,
    *,
    statuses: tuple[str, ...],
    new_status: str,
    verb: str,
) -> None:
    store = _store(db_path)
    company = _company(store, uid, company_id)
    connection = _accounting_connection(company, connection_id, statuses, verb)
    store.set_connection_status(company["id"], connection["id"], new_status)
    click.echo(
        f"{connection['platformName']} connection {connection['id']} of company"
        f" {company['id']} ({company['name']}): {connection['status']} -> {new_status}"
    )


def _customer_options(fn: Any) -> Any:
    fn = click.option("--connection", "connection_id", help="The connection (default: the one).")(
        fn
    )
    fn = click.option("--company", "company_id", help="The company id.")(fn)
    fn = click.option("--uid", help=f"The company tagged {UID_TAG}=UID.")(fn)
    return db_option(fn)


@sandbox.command()
@_customer_options
def authorize(
    db_path: Path, uid: str | None, company_id: str | None, connection_id: str | None
) -> None:
    """Play the customer finishing Link: the accounting connection becomes Linked."""
    _simulate(
        db_path,
        uid,
        company_id,
        connection_id,
        statuses=("PendingAuth", "Deauthorized"),
        new_status="Linked",
        verb="authorize",
    )


@sandbox.command()
@_customer_options
def deauthorize(
    db_path: Path, uid: str | None, company_id: str | None, connection_id: str | None
) -> None:
    """Play the customer revoking access: the Linked accounting connection becomes Deauthorized."""
    _simulate(
        db_path,
        uid,
        company_id,
        connection_id,
        statuses=("Linked",),
        new_status="Deauthorized",
        verb="deauthorize",
    )


def _add_seed_command() -> None:
    """`sandbox seed` comes from the seed module once it exists."""
    if "seed" in sandbox.commands:
        return
    try:
        seed_module = importlib.import_module("reconcile.sandbox.seed")
    except ImportError:
        return
    command = getattr(seed_module, "seed_command", None)
    if isinstance(command, click.Command):
        sandbox.add_command(command, name=command.name or "seed")
