"""The one way every action is sent, whatever its kind.

1. The handler's guard: a destructive action goes out only against the state the plan saw.
2. The write (the request rebuilt from the action's kind, ids and `after`), under the action's
   Idempotency-Key (a key planned before the company existed is
   derived again with the company's id, which is part of what the write means).
3. No usable answer (no response, a 5xx or 409 after the client's retries): the handler says
   whether the write landed. Only when Codat confirms it did not, after a 5xx (which Codat would
   replay to the same key for 90 minutes), is it sent once more under a fresh key; when Codat
   cannot be asked, the action fails and says that it may have been applied.
4. Refused with a 4xx: the handler checks whether the wanted state holds anyway (e.g. 400 "Only
   one active accounting connection" because a concurrent apply made it): then it is done.
   Otherwise it is asked once more under a fresh random key (a refusal did not land, and Codat
   would replay it to the old key for 90 minutes even once its cause is fixed); the second
   answer is final.
5. A success may be a stale replay (the handler decides): sent again under a fresh key.

Anything unexpected (a surprising answer, a bug) fails this action only.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any, Literal

from reconcile.codat import CodatError, CodatHTTPError, QuotaExhausted
from reconcile.executor.companies import CreateCompany, DeleteCompany, UpdateCompany
from reconcile.executor.connections import CreateConnection, DeleteConnection, UnlinkConnection
from reconcile.executor.context import Context, Done
from reconcile.executor.expenses import CreatePartnerExpense, RefreshData, SetExpenseConfig
from reconcile.executor.handler import Handler, Unresolvable
from reconcile.executor.outcome import Outcome
from reconcile.model import Status
from reconcile.plans import Action, Kind, derive_key
from reconcile.plans.requests import NotRebuildable, rebuilt

HANDLERS: dict[Kind, Handler] = {
    h.kind: h
    for h in (
        CreateCompany(),
        UpdateCompany(),
        DeleteCompany(),
        CreateConnection(),
        UnlinkConnection(),
        DeleteConnection(),
        CreatePartnerExpense(),
        SetExpenseConfig(),
        RefreshData(),
    )
}
assert set(HANDLERS) == set(Kind), "every kind of action needs a handler"

Unknown = Literal["unknown"]
UNKNOWN: Unknown = "unknown"
UNKNOWN_NOTE = "; Codat could not be asked whether it was applied: run plan again"


class QuotaStop(Exception):
    """The daily quota ran out before this action was sent: it was not started."""

    def __init__(self, cause: QuotaExhausted) -> None:
        super().__init__(str(cause))
        self.cause = cause


async def perform(ctx: Context, action: Action, company_id: str | None) -> Outcome:
    """Send one action; the Outcome says what Codat now holds. Raises `QuotaStop` only when
    the quota ran out before anything of this action could have landed."""
    if company_id is None and action.kind is not Kind.CREATE_COMPANY:
        return Outcome(action, "skipped", None, "the company was not created")
    handler = HANDLERS[action.kind]
    try:
        return await _perform(ctx, handler, action, company_id)
    except QuotaStop:
        raise
    except Unresolvable as exc:
        return Outcome(action, "failed", company_id, str(exc))
    except Exception as exc:  # one customer's surprise must not end the run
        what = str(exc) if isinstance(exc, CodatError) else f"{type(exc).__name__}: {exc}"
        return Outcome(
            action,
            "failed",
            company_id,
            f"unexpected error: {what}; it may or may not have been applied: run plan again",
        )


async def _perform(
    ctx: Context, handler: Handler, action: Action, company_id: str | None
) -> Outcome:
    try:
        guard = await handler.guard(ctx, action, company_id)
    except QuotaExhausted as exc:
        raise QuotaStop(exc) from None
    except CodatError as exc:
        return _failed(action, company_id, exc, "; could not confirm the state the plan saw")
    if isinstance(guard, Done):
        return _applied(action, guard)
    if guard is not None:
        return Outcome(action, "refused", company_id, guard)

    try:  # what the action's fields mean, never a stored request they do not show
        request = rebuilt(ctx.owner, action)
    except NotRebuildable as exc:
        return Outcome(action, "failed", company_id, f"not sent: {exc}")
    request = request.resolved(company_id) if company_id else request
    key = action.idempotency_key
    if key is not None and action.company_id is None and company_id is not None:
        key = derive_key(key, company_id)
    for fresh in (False, True):
        try:
            body = await _send(ctx, request.method, request.path, request.body, key)
            new_id = handler.accept(action, company_id, body)
        except QuotaExhausted as exc:
            if fresh:
                return _failed(action, company_id, exc)
            raise QuotaStop(exc) from None
        except CodatError as exc:  # no response, an error status, or an unreadable answer
            refused = isinstance(exc, CodatHTTPError) and not _ambiguous(exc)
            resendable = (
                handler.resend_refused and not fresh and key is not None and _replays_refusal(exc)
            )
            # Patient whenever a "no" would send it again: a lagging read must not duplicate.
            patient = not refused or resendable
            landed = await _ask(handler, ctx, action, company_id, patient=patient)
            if isinstance(landed, Done):
                detail = "already in place" if refused else landed.detail
                return _applied(action, replace(landed, detail=detail))
            if refused:
                if not resendable or landed is not None:
                    return _failed(action, company_id, exc)
                # A refusal did not land, but Codat replays it to this key for 90 minutes, even
                # once its cause is fixed (e.g. the customer authorized since): ask once more
                # under a key of its own. Random, not derived: a derived one would replay this
                # run's refusal to the next run in the same way.
                key = str(uuid.uuid4())
                continue
            if landed == UNKNOWN:
                return _failed(action, company_id, exc, UNKNOWN_NOTE)
            if fresh or key is None or not _replays_error(exc):
                return _failed(action, company_id, exc)
            # Confirmed absent after a 5xx: the old key would only replay the error.
            key = derive_key(key, "after a replayed 5xx")
            continue
        if key is not None and not fresh and await _stale(handler, ctx, action, new_id, body):
            key = derive_key(key, "stale", body.get("id") if isinstance(body, dict) else "")
            continue
        return _applied(action, Done(new_id, "", handler.made(action, body)))
    return Outcome(action, "failed", company_id, "a fresh attempt was stale too")


def _applied(action: Action, done: Done) -> Outcome:
    conn = done.connection
    if conn is None:
        return Outcome(action, "applied", done.company_id, done.detail)
    link = conn.link_url if conn.is_accounting and conn.status != Status.LINKED.value else None
    return Outcome(action, "applied", done.company_id, done.detail, None, conn.id, link or None)


async def _send(ctx: Context, method: str, path: str, body: Any, key: str | None) -> Any:
    return await ctx.client.request_json(method, path, json=body, idempotency_key=key)


async def _ask(
    handler: Handler, ctx: Context, action: Action, company_id: str | None, *, patient: bool
) -> Done | Unknown | None:
    try:
        return await handler.landed(ctx, action, company_id, patient=patient)
    except CodatError:
        return UNKNOWN


async def _stale(
    handler: Handler, ctx: Context, action: Action, company_id: str | None, body: Any
) -> bool:
    try:
        return await handler.stale(ctx, action, company_id, body)
    except CodatHTTPError as exc:
        return exc.status == 404
    except CodatError:
        return False


def _ambiguous(exc: CodatHTTPError) -> bool:
    """Errors after which the write may or may not have happened."""
    return exc.status >= 500 or exc.status in (408, 409, 429)


def _replays_refusal(exc: CodatError) -> bool:
    """A keyed 4xx that says nothing about who may ask (401/403) or what exists (404): Codat
    may be replaying an old refusal whose cause is gone."""
    return isinstance(exc, CodatHTTPError) and exc.status not in (401, 403, 404)


def _replays_error(exc: CodatError) -> bool:
    """Codat replays a keyed request's 4xx/5xx for 90 minutes (not a 429): a fresh key helps."""
    return isinstance(exc, CodatHTTPError) and exc.status >= 500


def _failed(action: Action, company_id: str | None, exc: CodatError, more: str = "") -> Outcome:
    correlation = exc.correlation_id if isinstance(exc, CodatHTTPError) else None
    return Outcome(action, "failed", company_id, str(exc) + more, correlation)
