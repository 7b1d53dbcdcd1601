"""Handlers for data connections: create (accounting), unlink, delete."""

from __future__ import annotations

from typing import Any

from reconcile.codat import CodatHTTPError
from reconcile.codat.answers import parse_connection
from reconcile.executor.context import Context, Done
from reconcile.executor.handler import (
    CONFIRMED,
    Guard,
    Handler,
    answered,
    created_before_read,
    gone,
)
from reconcile.model import Connection, Status
from reconcile.plans import Action, Kind


class CreatesConnection(Handler):
    """A create whose answer is a connection: landed when the company has a connection that
    `fulfils` the action; a replayed answer is stale when that connection is no longer active.
    The planner creates one only when none is usable, so one found afterwards came from this
    action or a concurrent apply of the same file: either way the wanted state holds."""

    def fulfils(self, action: Action, conn: Connection) -> bool:
        raise NotImplementedError

    async def landed(
        self, ctx: Context, action: Action, company_id: str | None, *, patient: bool
    ) -> Done | None:
        assert company_id is not None
        company = await ctx.company(company_id)
        found = next((c for c in company.connections if self.fulfils(action, c)), None)
        return Done(company_id, CONFIRMED, found) if found is not None else None

    def accept(self, action: Action, company_id: str | None, body: Any) -> str | None:
        answered(action, body, parse_connection)
        return company_id

    def made(self, action: Action, body: Any) -> Connection | None:
        return answered(action, body, parse_connection)

    async def stale(self, ctx: Context, action: Action, company_id: str | None, body: Any) -> bool:
        if not created_before_read(ctx, body) or company_id is None or not isinstance(body, dict):
            return False
        conn_id = body.get("id")
        if not isinstance(conn_id, str):
            return False
        try:
            return not (await ctx.connection(company_id, conn_id)).active
        except CodatHTTPError as exc:
            if gone(exc):
                return True
            raise


class CreateConnection(CreatesConnection):
    """An active accounting connection to the wanted platform (also what a 400 "Only one
    active accounting connection" is checked against)."""

    kind = Kind.CREATE_CONNECTION

    def fulfils(self, action: Action, conn: Connection) -> bool:
        key = (action.after or {}).get("platformKey")
        platform = conn.platform
        return conn.is_accounting and conn.active and platform is not None and platform.key == key


class UnlinkConnection(Handler):
    """Sent only while the connection is still Linked as the plan saw it; one already Unlinked
    (or gone) is done."""

    kind = Kind.UNLINK_CONNECTION

    async def guard(self, ctx: Context, action: Action, company_id: str | None) -> Guard:
        status = await _live_status(ctx, action, company_id)
        return _unlinked(company_id, status) or _changed(action, status)

    async def landed(
        self, ctx: Context, action: Action, company_id: str | None, *, patient: bool
    ) -> Done | None:
        return _unlinked(company_id, await _live_status(ctx, action, company_id))


def _unlinked(company_id: str | None, status: str | None) -> Done | None:
    if status is None:
        return Done(company_id, "already gone")
    if status == Status.UNLINKED.value:
        return Done(company_id, "already unlinked")
    return None


class DeleteConnection(Handler):
    """Only ever a connection the plan saw PendingAuth: if it is Linked now (the customer
    authorized meanwhile) it is refused, never deleted. One already gone is done."""

    kind = Kind.DELETE_CONNECTION

    async def guard(self, ctx: Context, action: Action, company_id: str | None) -> Guard:
        status = await _live_status(ctx, action, company_id)
        if status is None:
            return Done(company_id, "already gone")
        if status == Status.LINKED.value:
            return (
                f"it is Linked now (the plan saw it {action.status}): a Linked connection is "
                "never deleted; run plan again"
            )
        return _changed(action, status)

    async def landed(
        self, ctx: Context, action: Action, company_id: str | None, *, patient: bool
    ) -> Done | None:
        if await _live_status(ctx, action, company_id) is None:
            return Done(company_id, "already gone")
        return None


async def _live_status(ctx: Context, action: Action, company_id: str | None) -> str | None:
    """The connection's status now, None if it no longer exists."""
    assert company_id is not None and action.connection_id is not None
    try:
        return (await ctx.connection(company_id, action.connection_id)).status
    except CodatHTTPError as exc:
        if gone(exc):
            return None
        raise


def _changed(action: Action, status: str | None) -> str | None:
    if status == action.status:
        return None
    return f"it is {status} now (the plan saw it {action.status}); run plan again"
