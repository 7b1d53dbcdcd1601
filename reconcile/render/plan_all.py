"""`plan --env all`: every environment's plan summary side by side (a table, or JSON): the
customers' actions per bucket, and the account settings' changes (`Settings`)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from reconcile.escape import text

if TYPE_CHECKING:
    from reconcile.runs.plan_all import Row

COLUMNS = ("create", "update", "unlink", "delete")


def render_table(rows: list[Row]) -> str:
    head = [
        "Environment",
        "Account",
        "Customers",
        *(c.capitalize() for c in COLUMNS),
        "Settings",
        "Refused",
    ]
    body = [
        [
            text(row.env),
            text(row.account),
            str(row.customers),
            *(str(row.summary.get(c, 0)) if not row.error else "-" for c in COLUMNS),
            str(row.settings) if not row.error else "-",
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
                "settings": row.settings,
                "refused": row.refused,
                "unsafe": row.unsafe,
                "error": row.error,
            }
            for row in rows
        ],
    }
    return json.dumps(doc, indent=2, ensure_ascii=True) + "\n"
