"""Handlers for Sync for Expenses: the partner expense connection and the expense config."""

from __future__ import annotations

from typing import Any

from reconcile.codat.answers import parse_expense_config
from reconcile.executor.connections import CreatesConnection
from reconcile.executor.context import Context, Done
from reconcile.executor.handler import CONFIRMED, Handler
from reconcile.model import Connection, Status
from reconcile.plans import Action, Kind


class CreatePartnerExpense(CreatesConnection):
    """A Linked partner expense connection."""

    kind = Kind.CREATE_PARTNER_EXPENSE

    def fulfils(self, action: Action, conn: Connection) -> bool:
        return conn.is_partner_expense and conn.status == Status.LINKED.value


class SetExpenseConfig(Handler):
    """Landed when the config reads back as written. Every success is read back: a replay of
    an earlier write (A, then B, then A again within 90 minutes) would otherwise leave B."""

    kind = Kind.SET_EXPENSE_CONFIG

    async def landed(
        self, ctx: Context, action: Action, company_id: str | None, *, patient: bool
    ) -> Done | None:
        assert company_id is not None
        return Done(company_id, CONFIRMED) if await _matches(ctx, action, company_id) else None

    async def stale(self, ctx: Context, action: Action, company_id: str | None, body: Any) -> bool:
        assert company_id is not None
        return not await _matches(ctx, action, company_id)


class RefreshData(Handler):
    """A refresh of the company's data: asking again does no harm, and nothing reads back
    whether Codat queued it, so a write without a usable answer counts as sent."""

    kind = Kind.REFRESH_DATA

    async def landed(
        self, ctx: Context, action: Action, company_id: str | None, *, patient: bool
    ) -> Done | None:
        assert company_id is not None
        return Done(company_id, "refresh requested")


async def _matches(ctx: Context, action: Action, company_id: str) -> bool:
    live = await ctx.expense_config(company_id)
    return live is not None and live == parse_expense_config(action.after, "an expense config")
