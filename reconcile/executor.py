"""Carry out a Plan against Codat: per customer in order, customers in parallel.

Safety on faults: every POST/PATCH carries the plan's Idempotency-Key (the client retries with
the same key, so a retry replays instead of duplicating); after an ambiguous failure of a company
create the executor re-reads the company by its uid tag before giving up; a delete answered 404
and an unlink of a connection already Unlinked count as done.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from reconcile.codat import CodatClient, CodatError, CodatHTTPError, CodatTransportError
from reconcile.model import OWNER_TAG, UID_TAG
from reconcile.plan import Action, CustomerChange, Kind, Plan

OutcomeStatus = Literal["applied", "failed", "skipped"]


@dataclass(frozen=True)
class Outcome:
    action: Action
    status: OutcomeStatus
    company_id: str | None = None
    detail: str = ""
    correlation_id: str | None = None


@dataclass
class ApplyResult:
    outcomes: list[Outcome] = field(default_factory=list)

    def of(self, status: OutcomeStatus) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == status]

    @property
    def ok(self) -> bool:
        return not self.of("failed") and not self.of("skipped")


Progress = Callable[[Outcome], None]


async def execute(
    plan: Plan,
    client: CodatClient,
    *,
    parallelism: int = 10,
    fail_fast: bool = False,
    progress: Progress | None = None,
) -> ApplyResult:
    result = ApplyResult()
    gate = asyncio.Semaphore(max(1, parallelism))
    stop = asyncio.Event()

    def record(outcome: Outcome) -> None:
        result.outcomes.append(outcome)
        if progress is not None:
            progress(outcome)

    async def run_customer(change: CustomerChange) -> None:
        async with gate:
            company_id = change.company_id
            failed = False
            for action in change.actions:
                if failed or (stop.is_set() and fail_fast):
                    reason = "an earlier action of this customer failed" if failed else "fail-fast"
                    record(Outcome(action, "skipped", company_id, reason))
                    continue
                outcome = await _run_action(client, plan.owner, action, company_id)
                record(outcome)
                if outcome.status == "failed":
                    failed = True
                    stop.set()
                elif action.kind is Kind.CREATE_COMPANY:
                    company_id = outcome.company_id

    await asyncio.gather(*(run_customer(change) for change in plan.changes))
    return result


async def _run_action(
    client: CodatClient, owner: str, action: Action, company_id: str | None
) -> Outcome:
    if company_id is None and action.kind is not Kind.CREATE_COMPANY:
        return Outcome(action, "skipped", None, "the company was not created")
    request = action.request.resolved(company_id) if company_id else action.request
    try:
        response = await client.request(
            request.method,
            request.path,
            json=request.body,
            idempotency_key=action.idempotency_key,
        )
    except CodatTransportError as exc:
        recovered = await _recover(client, owner, action, company_id)
        if recovered is not None:
            return recovered
        return Outcome(action, "failed", company_id, str(exc))
    except CodatHTTPError as exc:
        recovered = await _already_done(client, action, company_id, exc)
        if recovered is not None:
            return recovered
        return Outcome(action, "failed", company_id, str(exc), exc.correlation_id)
    body: Any = response.json() if response.content else None
    if action.kind is Kind.CREATE_COMPANY and isinstance(body, dict):
        company_id = str(body["id"])
    return Outcome(action, "applied", company_id)


async def _recover(
    client: CodatClient, owner: str, action: Action, company_id: str | None
) -> Outcome | None:
    """After no answer at all: did the write land? Only a company create can be checked by tag."""
    if action.kind is not Kind.CREATE_COMPANY:
        return None
    try:
        found = await client.list_companies(tags=f"{OWNER_TAG}={owner} && {UID_TAG}={action.uid}")
    except CodatError:
        return None
    if len(found) == 1:
        return Outcome(action, "applied", str(found[0]["id"]), "confirmed by re-reading")
    return None


async def _already_done(
    client: CodatClient, action: Action, company_id: str | None, exc: CodatHTTPError
) -> Outcome | None:
    """An error that means the goal is already reached (e.g. after a lost response)."""
    if exc.status == 404 and action.kind in (Kind.DELETE_COMPANY, Kind.DELETE_CONNECTION):
        return Outcome(action, "applied", company_id, "already gone")
    if action.kind is Kind.UNLINK_CONNECTION and company_id and action.connection_id:
        try:
            response = await client.request(
                "GET", f"/companies/{company_id}/connections/{action.connection_id}"
            )
        except CodatError:
            return None
        if response.json().get("status") == "Unlinked":
            return Outcome(action, "applied", company_id, "already unlinked")
    return None
