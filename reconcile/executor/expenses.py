"""Handlers for Sync for Expenses: the partner expense connection and the expense config."""

from __future__ import annotations

from typing import Any

from reconcile.codat.answers import parse_connection
from reconcile.executor.connections import CONFIRMED, stale_connection
from reconcile.executor.context import Context, Done
from reconcile.executor.handler import Handler, answered
from reconcile.live import config_from_wire
from reconcile.model import Status
from reconcile.plan import Action, Kind


class CreatePartnerExpense(Handler):
    """Landed when the company has a Linked partner expense connection."""

    kind = Kind.CREATE_PARTNER_EXPENSE

    async def landed(
        self, ctx: Context, action: Action, company_id: str | None, *, patient: bool
    ) -> Done | None:
        assert company_id is not None
        company = await ctx.company(company_id)
        if any(
            c.is_partner_expense and c.status == Status.LINKED.value for c in company.connections
        ):
            return Done(company_id, CONFIRMED)
        return None

    def accept(self, action: Action, company_id: str | None, body: Any) -> str | None:
        answered(action, body, parse_connection)
        return company_id

    async def stale(self, ctx: Context, action: Action, company_id: str | None, body: Any) -> bool:
        return await stale_connection(ctx, company_id, body)


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


async def _matches(ctx: Context, action: Action, company_id: str) -> bool:
    live = await ctx.expense_config(company_id)
    return live is not None and live == config_from_wire(action.request.body)
