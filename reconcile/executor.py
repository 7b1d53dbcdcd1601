"""Carry out a Plan against Codat: per customer in order, customers in parallel.

Writes stay exactly-once through faults:

- Every POST/PATCH carries the plan's Idempotency-Key, so the client's retries (and a second
  apply of the same plan running at the same time) replay instead of duplicating.
- When a write ends without a usable answer (no response, a 5xx that Codat would replay to every
  retry, a 409 that never cleared), the executor asks Codat whether the write landed: a company
  by its uid tag, a connection by the company's connections, an unlink by the connection's
  status, a config by reading it. Only when Codat confirms it did not land after a 5xx is it
  sent once more, under a fresh key (the old key would only replay the error); when Codat
  cannot be asked, the action fails and says that it may have been applied.
- A replay can be stale: Codat keeps a key's first answer for 90 minutes, so if what it created
  was deleted since, the same key answers with the deleted object. Anything a create returns
  that Codat dates before the plan's read of live state is checked to still exist; a config
  write is read back. A stale answer is re-sent under a fresh key.
- A delete answered 404 and an unlink of a connection already Unlinked count as done.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from reconcile.codat import CodatClient, CodatError, CodatHTTPError, CodatTransportError
from reconcile.live import config_from_wire, connection_from_wire
from reconcile.model import OWNER_TAG, UID_TAG, Connection, ExpenseConfig, Status
from reconcile.plan import Action, CustomerChange, Kind, Plan, derive_key

OutcomeStatus = Literal["applied", "failed", "skipped"]
Landing = Literal["absent", "unknown"]
ABSENT: Landing = "absent"
ABSENCE_RECHECK_SECONDS = 1.0
UNKNOWN: Landing = "unknown"
_ACTIVE = (Status.LINKED.value, Status.PENDING_AUTH.value)


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
    runner = _Runner(client, plan.owner, _parse_time(plan.observed_at))

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
                outcome = await runner.run(action, company_id)
                record(outcome)
                if outcome.status == "failed":
                    failed = True
                    stop.set()
                elif action.kind is Kind.CREATE_COMPANY:
                    company_id = outcome.company_id

    await asyncio.gather(*(run_customer(change) for change in plan.changes))
    return result


@dataclass(frozen=True)
class _Runner:
    client: CodatClient
    owner: str
    read_at: datetime | None

    async def run(self, action: Action, company_id: str | None) -> Outcome:
        if company_id is None and action.kind is not Kind.CREATE_COMPANY:
            return Outcome(action, "skipped", None, "the company was not created")
        request = action.request.resolved(company_id) if company_id else action.request
        key = action.idempotency_key
        if key is not None and action.company_id is None and company_id is not None:
            # The company was created in this run: its id is part of what the write means.
            key = derive_key(key, company_id)
        for fresh in (False, True):
            try:
                response = await self.client.request(
                    request.method, request.path, json=request.body, idempotency_key=key
                )
            except (CodatTransportError, CodatHTTPError) as exc:
                if isinstance(exc, CodatHTTPError) and not _ambiguous(exc):
                    done = await self._already_done(action, company_id, exc)
                    if done is None and fresh:
                        # The fresh attempt may meet the first one's effect (e.g. 400: one
                        # active accounting connection): look once more.
                        landed = await self._landed(action, company_id)
                        done = landed if isinstance(landed, Outcome) else None
                    return done or _failed(action, company_id, exc)
                landed = await self._landed(action, company_id)
                if isinstance(landed, Outcome):
                    return landed
                if landed == UNKNOWN:
                    return _failed(
                        action,
                        company_id,
                        exc,
                        "; Codat could not be asked whether it was applied: run plan again",
                    )
                if fresh or key is None or not _replays_error(exc):
                    return _failed(action, company_id, exc)
                # Confirmed absent after a 5xx: the old key would only replay the error.
                key = derive_key(key, "after a replayed 5xx")
                continue
            body = _json_or_none(response.content)
            created_id = company_id
            if action.kind is Kind.CREATE_COMPANY:
                if not isinstance(body, dict) or "id" not in body:
                    return Outcome(action, "failed", None, "Codat's answer carried no company id")
                created_id = str(body["id"])
            if key is not None and not fresh and await self._stale(action, created_id, body):
                key = derive_key(key, "stale", body.get("id") if isinstance(body, dict) else "")
                continue
            return Outcome(action, "applied", created_id)
        return Outcome(action, "failed", company_id, "a fresh attempt was stale too")

    # ------------------------------------------------------------------ did it land?

    async def _landed(self, action: Action, company_id: str | None) -> Outcome | Landing:
        """After an ambiguous failure: is the intended effect there (an Outcome), surely not
        there (ABSENT), or could Codat not be asked (UNKNOWN)?"""
        try:
            if action.kind is Kind.CREATE_COMPANY:
                tags = f"{OWNER_TAG}={self.owner} && {UID_TAG}={action.uid}"
                found = await self.client.list_companies(tags=tags)
                if not found:
                    # "absent" allows a second create: give a lagging tag index a moment
                    # and look once more before saying so.
                    await asyncio.sleep(ABSENCE_RECHECK_SECONDS)
                    found = await self.client.list_companies(tags=tags)
                if len(found) > 1:
                    ids = ", ".join(str(c.get("id")) for c in found)
                    detail = f"companies {ids} all carry {UID_TAG}={action.uid}; resolve by hand"
                    return Outcome(action, "failed", None, detail)
                return _confirmed(action, str(found[0]["id"])) if found else ABSENT
            assert company_id is not None
            if action.kind in (Kind.CREATE_CONNECTION, Kind.CREATE_PARTNER_EXPENSE):
                company = await self.client.get_company(company_id)
                connections = map(connection_from_wire, company.get("dataConnections") or ())
                if any(_fulfils(action, conn) for conn in connections):
                    return _confirmed(action, company_id)
                return ABSENT
            if action.kind is Kind.SET_EXPENSE_CONFIG:
                if await self._config_matches(action, company_id):
                    return _confirmed(action, company_id)
                return ABSENT
            if action.kind is Kind.UNLINK_CONNECTION and action.connection_id:
                wire = await self.client.get_connection(company_id, action.connection_id)
                if wire.get("status") == "Unlinked":
                    return Outcome(action, "applied", company_id, "already unlinked")
                return ABSENT
            if action.kind in (Kind.DELETE_COMPANY, Kind.DELETE_CONNECTION):
                await self.client.request("GET", action.request.resolved(company_id).path)
                return ABSENT
        except CodatHTTPError as exc:
            if exc.status == 404 and action.kind in (Kind.DELETE_COMPANY, Kind.DELETE_CONNECTION):
                return Outcome(action, "applied", company_id, "already gone")
            return UNKNOWN
        except CodatError:
            return UNKNOWN
        return UNKNOWN

    async def _stale(self, action: Action, company_id: str | None, body: Any) -> bool:
        """Was this success a replay of a write whose effect has since been undone?"""
        try:
            if action.kind is Kind.SET_EXPENSE_CONFIG:
                assert company_id is not None
                return not await self._config_matches(action, company_id)
            if action.kind not in (
                Kind.CREATE_COMPANY,
                Kind.CREATE_CONNECTION,
                Kind.CREATE_PARTNER_EXPENSE,
            ):
                return False
            created = _parse_time(body.get("created") if isinstance(body, dict) else None)
            if created is None or self.read_at is None or created >= self.read_at:
                return False  # made after the plan read Codat: a fresh write
            assert company_id is not None
            if action.kind is Kind.CREATE_COMPANY:
                await self.client.get_company(company_id)
                return False
            wire = await self.client.get_connection(company_id, str(body["id"]))
            return wire.get("status") not in _ACTIVE
        except CodatHTTPError as exc:
            return exc.status == 404
        except CodatError:
            return False

    async def _config_matches(self, action: Action, company_id: str) -> bool:
        live = config_from_wire(await self.client.get_expense_config(company_id))
        wanted: ExpenseConfig | None = config_from_wire(action.request.body)
        return live is not None and live == wanted

    async def _already_done(
        self, action: Action, company_id: str | None, exc: CodatHTTPError | None
    ) -> Outcome | None:
        """An error that means the goal is already reached (e.g. after a lost response)."""
        if (
            exc is not None
            and exc.status == 404
            and action.kind
            in (
                Kind.DELETE_COMPANY,
                Kind.DELETE_CONNECTION,
            )
        ):
            return Outcome(action, "applied", company_id, "already gone")
        if action.kind is Kind.UNLINK_CONNECTION and company_id and action.connection_id:
            try:
                wire = await self.client.get_connection(company_id, action.connection_id)
            except CodatError:
                return None
            if wire.get("status") == "Unlinked":
                return Outcome(action, "applied", company_id, "already unlinked")
        return None


def _fulfils(action: Action, conn: Connection) -> bool:
    """Is this live connection what the create action was meant to make?

    The planner only creates a connection when no usable one exists, so one found afterwards
    came from this action (or from a concurrent apply of the same plan).
    """
    if action.kind is Kind.CREATE_PARTNER_EXPENSE:
        return conn.is_partner_expense and conn.status == Status.LINKED.value
    key = (action.request.body or {}).get("platformKey")
    platform = conn.platform
    return (
        conn.is_accounting
        and conn.status in _ACTIVE
        and platform is not None
        and platform.key == key
    )


def _json_or_none(content: bytes) -> Any:
    try:
        return json.loads(content) if content else None
    except ValueError:
        return None


def _ambiguous(exc: CodatHTTPError) -> bool:
    """Errors after which the write may or may not have happened."""
    return exc.status >= 500 or exc.status in (408, 409, 429)


def _replays_error(exc: CodatError) -> bool:
    """Codat replays a keyed request's 4xx/5xx for 90 minutes (not a 429): a fresh key helps."""
    return isinstance(exc, CodatHTTPError) and exc.status >= 500


def _failed(action: Action, company_id: str | None, exc: CodatError, more: str = "") -> Outcome:
    correlation = exc.correlation_id if isinstance(exc, CodatHTTPError) else None
    return Outcome(action, "failed", company_id, str(exc) + more, correlation)


def _confirmed(action: Action, company_id: str) -> Outcome:
    return Outcome(action, "applied", company_id, "confirmed by re-reading")


def _parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None
