"""`reconcile sandbox authorize|deauthorize|connection-error`: play the customer in the Link flow,
and the platform failing, on the sandbox's state file directly (no server needed)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import click

from reconcile.sandbox.registry import (
    ACCOUNTING,
    CONNECTION_STATUSES,
    DEAUTHORIZED,
    ERROR_ACTIVE,
    LINKED,
    OWNER_TAG,
    PENDING_AUTH,
    SOURCE_TYPES,
    UID_TAG,
)

if TYPE_CHECKING:
    from reconcile.sandbox.store.store import Store

DEFAULT_DB: Final = Path(".reconcile") / "sandbox.db"

db_option = click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_DB,
    show_default=True,
    help="The sandbox's SQLite state file.",
)


def _store(db_path: Path) -> Store:
    if not db_path.exists():
        raise click.ClickException(f"no sandbox state at {db_path}")
    from reconcile.sandbox.store.store import Store

    return Store(db_path)


def _shown(text: object) -> str:
    """A string from the sandbox's state, with control characters made visible."""
    return "".join(
        ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in str(text)
    )


def _company(
    store: Store, uid: str | None, company_id: str | None, owner: str | None
) -> dict[str, Any]:
    if uid is None and company_id is not None:
        company: dict[str, Any] | None = store.get_company(company_id)
        if company is None:
            raise click.ClickException(f"no company {_shown(company_id)}")
        if owner is not None and company["tags"].get(OWNER_TAG) != owner:
            raise click.ClickException(
                f"company {company_id} is not tagged {OWNER_TAG}={_shown(owner)}"
            )
        return company
    if uid is None or company_id is not None:
        raise click.ClickException("give exactly one of --uid and --company")
    found = store.find_companies_by_tag(UID_TAG, uid)
    wanted = f"{UID_TAG}={_shown(uid)}"
    if owner is not None:
        found = [c for c in found if c["tags"].get(OWNER_TAG) == owner]
        wanted += f" and {OWNER_TAG}={_shown(owner)}"
    if not found:
        raise click.ClickException(f"no company tagged {wanted}")
    if len(found) > 1:
        ids = ", ".join(c["id"] for c in found)
        owners = sorted({str(c["tags"].get(OWNER_TAG, "")) for c in found})
        if owner is None and len(owners) > 1:
            named = ", ".join(_shown(o) if o else "(no owner tag)" for o in owners)
            hint = f"pass --owner to choose one ({named})"
        else:
            hint = "pass --company to choose one"
        raise click.ClickException(f"{len(found)} companies are tagged {wanted}: {ids}; {hint}")
    return found[0]


def _pick_connection(
    company: dict[str, Any],
    connection_id: str | None,
    source_type: str,
    statuses: tuple[str, ...],
    verb: str,
) -> dict[str, Any]:
    """The company's one connection of `source_type` in the first of `statuses` that has any
    (or the one named by --connection, whatever its status)."""
    kind = source_type.lower()
    connections = [c for c in company["dataConnections"] if c["sourceType"] == source_type]
    if connection_id is not None:
        connections = [c for c in connections if c["id"] == connection_id]
        if not connections:
            raise click.ClickException(
                f"company {company['id']} has no {kind} connection {_shown(connection_id)}"
            )
    for status in statuses:
        candidates = [c for c in connections if c["status"] == status]
        if len(candidates) > 1:
            ids = ", ".join(c["id"] for c in candidates)
            raise click.ClickException(
                f"company {company['id']} has several {status} {kind} connections ({ids});"
                " choose one with --connection"
            )
        if candidates:
            chosen: dict[str, Any] = candidates[0]
            return chosen
    wanted = " or ".join(statuses)
    raise click.ClickException(
        f"company {company['id']} has no {wanted} {kind} connection to {verb}"
    )


def _described(company: dict[str, Any], connection: dict[str, Any]) -> str:
    return (
        f"{_shown(connection['platformName'])} connection {connection['id']} of company"
        f" {company['id']} ({_shown(company['name'])})"
    )


@dataclass(frozen=True)
class Chosen:
    """The company a command plays on, as its options name it: the state file (--db), the
    company (--uid or --company, with --owner) and maybe one of its connections (--connection)."""

    db_path: Path
    uid: str | None
    company_id: str | None
    owner: str | None
    connection_id: str | None

    def open(self) -> tuple[Store, dict[str, Any]]:
        """The sandbox's store and the company, or a ClickException saying why not."""
        store = _store(self.db_path)
        return store, _company(store, self.uid, self.company_id, self.owner)


def _simulate(chosen: Chosen, *, statuses: tuple[str, ...], new_status: str, verb: str) -> None:
    store, company = chosen.open()
    connection = _pick_connection(company, chosen.connection_id, ACCOUNTING, statuses, verb)
    store.set_connection_status(company["id"], connection["id"], new_status)
    click.echo(f"{_described(company, connection)}: {connection['status']} -> {new_status}")


def customer_options(fn: Any) -> Any:
    """--db, --uid, --company, --owner and --connection, handed to the command as one
    `chosen: Chosen`."""

    @functools.wraps(fn)
    def command(
        *args: Any,
        db_path: Path,
        uid: str | None,
        company_id: str | None,
        owner: str | None,
        connection_id: str | None,
        **kwargs: Any,
    ) -> Any:
        return fn(*args, chosen=Chosen(db_path, uid, company_id, owner, connection_id), **kwargs)

    wrapped: Any = command
    wrapped = click.option(
        "--connection", "connection_id", help="The connection (default: the one)."
    )(wrapped)
    wrapped = click.option(
        "--owner", help=f"Only the company also tagged {OWNER_TAG}=OWNER (a uid two owners use)."
    )(wrapped)
    wrapped = click.option("--company", "company_id", help="The company id.")(wrapped)
    wrapped = click.option("--uid", help=f"The company tagged {UID_TAG}=UID.")(wrapped)
    return db_option(wrapped)


def _status_command(
    name: str, help_text: str, statuses: tuple[str, ...], new_status: str
) -> click.Command:
    """A command that moves the customer's accounting connection from one of `statuses` to
    `new_status`, as the customer would."""

    @click.command(name, help=help_text)
    @customer_options
    def command(chosen: Chosen) -> None:
        _simulate(chosen, statuses=statuses, new_status=new_status, verb=name)

    return command


authorize = _status_command(
    "authorize",
    "Play the customer finishing Link: the accounting connection becomes Linked.",
    (PENDING_AUTH, DEAUTHORIZED),
    LINKED,
)
deauthorize = _status_command(
    "deauthorize",
    "Play the customer revoking access: the Linked accounting connection becomes Deauthorized.",
    (LINKED,),
    DEAUTHORIZED,
)


def _resolve(
    store: Store,
    company: dict[str, Any],
    connection_id: str | None,
    source_type: str,
    message: str | None,
) -> None:
    """Mark the Active errors of the company's one connection that has any Resolved."""
    candidates = [
        c
        for c in company["dataConnections"]
        if c["sourceType"] == source_type
        and connection_id in (None, c["id"])
        and any(
            e["status"] == ERROR_ACTIVE and message in (None, e.get("errorMessage"))
            for e in c.get("dataConnectionErrors", ())
        )
    ]
    which = f" connection {_shown(connection_id)}" if connection_id else " connection"
    with_message = f" {_shown(message)!r}" if message is not None else ""
    if not candidates:
        raise click.ClickException(
            f"company {company['id']} has no {source_type.lower()}{which} with an Active"
            f" error{with_message} to resolve"
        )
    if len(candidates) > 1:
        ids = ", ".join(c["id"] for c in candidates)
        raise click.ClickException(
            f"company {company['id']} has several {source_type.lower()} connections with Active"
            f" errors ({ids}); choose one with --connection"
        )
    connection = candidates[0]
    resolved = store.resolve_connection_errors(company["id"], connection["id"], message=message)
    plural = "s" if resolved != 1 else ""
    click.echo(f"{_described(company, connection)}: {resolved} error{plural} resolved")


def status_text(code: int | None) -> str | None:
    """The reason phrase Codat puts in `statusText` for a status code (None if unknown)."""
    try:
        return None if code is None else HTTPStatus(code).phrase
    except ValueError:
        return None


@click.command("connection-error")
@customer_options
@click.option(
    "--source",
    type=click.Choice(sorted(SOURCE_TYPES)),
    default="accounting",
    show_default=True,
    help="Which of the company's connections.",
)
@click.option("--message", help="The error message (Codat's errorMessage).")
@click.option(
    "--status-code",
    type=click.IntRange(100, 599),
    help="The platform's HTTP status code (e.g. 401).",
)
@click.option(
    "--resolve",
    is_flag=True,
    help="Mark the connection's Active errors Resolved instead (only those with --message).",
)
def connection_error(
    chosen: Chosen,
    source: str,
    message: str | None,
    status_code: int | None,
    resolve: bool,
) -> None:
    """Play the platform failing: put an Active entry in a connection's dataConnectionErrors
    (or, with --resolve, mark them Resolved).

    The connection is the company's Linked one of --source, else its PendingAuth one, else its
    Deauthorized one; --connection names any other.
    """
    if not resolve and not message:
        raise click.ClickException("--message is required (unless --resolve)")
    if resolve and status_code is not None:
        raise click.ClickException("--status-code goes with a new error, not with --resolve")
    store, company = chosen.open()
    connection_id = chosen.connection_id
    source_type = SOURCE_TYPES[source]
    if resolve:
        _resolve(store, company, connection_id, source_type, message)
        return
    assert message is not None
    statuses = CONNECTION_STATUSES if connection_id else (LINKED, PENDING_AUTH, DEAUTHORIZED)
    connection = _pick_connection(company, connection_id, source_type, statuses, "put an error on")
    store.add_connection_error(
        company["id"],
        connection["id"],
        message,
        status_code=None if status_code is None else str(status_code),
        status_text=status_text(status_code),
    )
    code = "" if status_code is None else f" {status_code}"
    click.echo(f"{_described(company, connection)}: Active error{code} {_shown(message)!r}")
