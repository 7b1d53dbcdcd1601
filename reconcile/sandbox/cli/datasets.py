"""`reconcile sandbox data-status|delete-record|clock`: play the accounting platform after the
link: its data stops syncing or fails, a supplier, customer or bank account is deleted in it; and
let time pass (`clock --advance-days 2`: the data ages, refreshes are that much older). Works on the
sandbox's state file directly (a served sandbox sees it at once)."""

from __future__ import annotations

from pathlib import Path
from typing import Final

import click

from reconcile.sandbox.cli.customer import Chosen, _shown, _store, customer_options, db_option

SECONDS_A_DAY: Final = 86_400
RECORD_OPTIONS: Final = {
    "supplier": "suppliers",
    "customer": "customers",
    "bank_account": "bankAccounts",
}


@click.command("data-status")
@customer_options
@click.option(
    "--data-type",
    "data_types",
    multiple=True,
    help="A data type (repeat for several; default: every one the company has).",
)
@click.option(
    "--age-days",
    type=click.FloatRange(min=0),
    help="Backdate the last successful sync to this many days ago.",
)
@click.option(
    "--stop/--resume",
    "stopped",
    default=None,
    help="Stop the scheduled syncs (the data ages), or resume them.",
)
@click.option(
    "--fail/--succeed",
    "failing",
    default=None,
    help="Make every sync (scheduled or refresh) fail with FetchError, or succeed again.",
)
def data_status(
    chosen: Chosen,
    data_types: tuple[str, ...],
    age_days: float | None,
    stopped: bool | None,
    failing: bool | None,
) -> None:
    """Play the platform's data syncs: backdate, stop or fail them; prints the data statuses."""
    if chosen.connection_id is not None:
        raise click.ClickException("--connection does not apply: data status is per company")
    store, company = chosen.open()
    statuses = store.set_data_status(
        company["id"],
        data_types=data_types,
        age_seconds=None if age_days is None else age_days * SECONDS_A_DAY,
        stopped=stopped,
        failing=failing,
    )
    for name, status in sorted(statuses.items()):
        last = status.get("lastSuccessfulSync", "never")
        click.echo(
            f"{company['id']} {_shown(name)}: {status['currentStatus']}, last success {last}"
        )


@click.command("delete-record")
@customer_options
@click.option("--supplier", help="The id of a supplier to delete.")
@click.option("--customer", help="The id of a customer to delete.")
@click.option("--bank-account", "bank_account", help="The id of a bank account to delete.")
def delete_record(
    chosen: Chosen,
    supplier: str | None,
    customer: str | None,
    bank_account: str | None,
) -> None:
    """Play someone deleting a supplier, customer or bank account in the accounting platform."""
    given = {"supplier": supplier, "customer": customer, "bank_account": bank_account}
    picked = [(name, value) for name, value in given.items() if value]
    if len(picked) != 1 or chosen.connection_id is not None:
        raise click.ClickException("give exactly one of --supplier, --customer, --bank-account")
    name, record_id = picked[0]
    store, company = chosen.open()
    store.delete_record(company["id"], RECORD_OPTIONS[name], record_id)
    shown = name.replace("_", " ")
    click.echo(f"company {company['id']}: {shown} {_shown(record_id)} deleted in the platform")


@click.command("clock")
@db_option
@click.option(
    "--advance-days",
    "days",
    required=True,
    type=float,
    help="How many days to move the sandbox's clock forward (1.5: a day and a half).",
)
def clock(db_path: Path, days: float) -> None:
    """Let time pass in the sandbox: its clock moves forward (served or not); prints its time."""
    from datetime import UTC, datetime

    from reconcile.sandbox.store.clock import advance as move

    if not days > 0:
        raise click.ClickException("--advance-days must be more than 0: the clock only moves on")
    _store(db_path).close()  # refuses a missing state file, as the other commands do
    now = datetime.fromtimestamp(move(db_path, days * SECONDS_A_DAY), UTC)
    click.echo(f"the sandbox's clock is now {now:%Y-%m-%dT%H:%M:%SZ}")
