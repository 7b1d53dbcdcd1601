"""`plan --env all`: every environment's plan summary side by side, read-only.

A reviewer sees what one change does in each Codat account, production included, before any of
it is applied. Each environment is planned with its own key, after its account is confirmed;
nothing is written anywhere (the read-only client refuses writes) and nothing is saved. An
environment that cannot be planned (no key, the wrong account, Codat down) gets its row with
the error in it; the others are still planned, and the run exits 1.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass

import click

from reconcile.cli.common import (
    EXIT_CHANGES,
    EXIT_ERROR,
    EXIT_OK,
    Where,
    client_for,
    plan_against,
    run,
)
from reconcile.environments import for_environment, names
from reconcile.escape import text
from reconcile.model import DesiredState
from reconcile.planner import PlanOptions

COLUMNS = ("create", "update", "unlink", "delete")


@dataclass(frozen=True)
class Row:
    env: str
    account: str
    customers: int
    summary: dict[str, int]
    refused: int
    unsafe: str | None
    differs: bool
    error: str | None = None


def plan_every_environment(
    desired: DesiredState, where: Where, options: PlanOptions, fmt: str, detailed: bool
) -> None:
    """Plan each environment in promotion order, print the table (or JSON), and exit."""
    from reconcile.codat import CodatError
    from reconcile.codat.readonly import ReadOnlyClient

    async def one(env: str) -> Row:
        resolved = for_environment(desired, env)
        try:
            async with client_for(where, ReadOnlyClient, desired=resolved) as client:
                plan = await plan_against(client, resolved, options, allow_unsafe=True)
        except CodatError as exc:
            account = resolved.environments[env].account
            return Row(env, account, len(resolved.customers), {}, 0, None, False, str(exc))
        return Row(
            env,
            resolved.environments[env].account,
            len(resolved.customers),
            dict(plan.summary()),
            len(plan.refused),
            plan.unsafe,
            plan.has_changes or bool(plan.refused) or bool(plan.unsafe),
        )

    async def every() -> list[Row]:
        return [await one(env) for env in names(desired)]

    rows = run(every())
    click.echo(render_json(rows) if fmt == "json" else render_table(rows), nl=False)
    if any(row.error for row in rows):
        sys.exit(EXIT_ERROR)
    differs = any(row.differs for row in rows)
    sys.exit(EXIT_CHANGES if detailed and differs else EXIT_OK)


def render_table(rows: list[Row]) -> str:
    head = ["Environment", "Account", "Customers", *(c.capitalize() for c in COLUMNS), "Refused"]
    body = [
        [
            text(row.env),
            text(row.account),
            str(row.customers),
            *(str(row.summary.get(c, 0)) if not row.error else "-" for c in COLUMNS),
            str(row.refused) if not row.error else "error: see below",
        ]
        for row in rows
    ]
    widths = [max(len(r[i]) for r in [head, *body]) for i in range(len(head))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip()
        for r in [head, *body]
    ]
    for row in rows:
        if row.unsafe:
            lines.append(f"{text(row.env)}: the plan is refused as a whole: {text(row.unsafe)}")
        if row.error:
            lines.append(f"{text(row.env)}: not planned: {text(row.error)}")
    return "\n".join(lines) + "\n"


def render_json(rows: list[Row]) -> str:
    doc = {
        "format_version": "1",
        "environments": [
            {
                "name": row.env,
                "account": row.account,
                "customers": row.customers,
                "summary": row.summary,
                "refused": row.refused,
                "unsafe": row.unsafe,
                "error": row.error,
            }
            for row in rows
        ],
    }
    return json.dumps(doc, indent=2, ensure_ascii=True) + "\n"
