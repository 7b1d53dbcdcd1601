"""One handler per kind of action: what "already done" means, how to tell whether a write
landed, what its answer leaves, and whether a replayed answer is stale.

The shared flow (`reconcile.executor.flow`) sends every action the same way and asks its
handler only these questions; a handler never sends the write itself.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, ClassVar, TypeVar

from reconcile.codat import CodatHTTPError
from reconcile.executor.context import Context, Done
from reconcile.model import Connection
from reconcile.plans import Action, Kind

T = TypeVar("T")
CONFIRMED = "confirmed by re-reading"

# What a guard says: Done (nothing to send), a refusal reason, or None (send).
Guard = Done | str | None


class Unresolvable(Exception):
    """Codat holds something the action cannot settle by itself (e.g. two companies with one
    uid): the action fails with this message and nothing more is sent for it."""


class Handler:
    kind: ClassVar[Kind]
    # After a refusal (4xx) confirmed not to have landed, ask once more under a fresh random
    # key (Codat replays a refusal to its key for 90 minutes, even once its cause is fixed).
    # Only where a second write cannot duplicate anything: Codat keeps connections unique
    # itself, configs and unlinks are idempotent by nature; a company create is not.
    resend_refused: ClassVar[bool] = True

    async def guard(self, ctx: Context, action: Action, company_id: str | None) -> Guard:
        """Immediately before sending: `Done` if the wanted state already holds (nothing is
        sent), a reason if Codat is no longer in the state the plan saw (the action is
        refused), None to send. Only destructive actions look; a read error fails the action."""
        return None

    async def landed(
        self, ctx: Context, action: Action, company_id: str | None, *, patient: bool
    ) -> Done | None:
        """After a write without a usable answer, or refused: does the wanted state hold
        (`Done`) or surely not (None)? Raises `CodatError` when Codat cannot be asked.
        `patient`: the write may have just landed; look twice before saying absent."""
        raise NotImplementedError

    def accept(self, action: Action, company_id: str | None, body: Any) -> str | None:
        """The company id the action leaves, from Codat's answer to the write."""
        return company_id

    def made(self, action: Action, body: Any) -> Connection | None:
        """The connection a successful create answered with (None: the action makes none)."""
        return None

    async def stale(self, ctx: Context, action: Action, company_id: str | None, body: Any) -> bool:
        """Was this success a replay (Codat keeps a key's answer 90 minutes) of a write whose
        effect has since been undone? Then it is sent again under a fresh key."""
        return False


def answered(action: Action, body: Any, parse: Callable[[object, str], T]) -> T:
    """Codat's answer to a create, checked (`reconcile.codat.answers`): a success that is not
    the object it made is no proof that anything was made (the flow then asks whether it
    landed)."""
    return parse(body, f"{action.request.method} {action.request.path}")


def created_before_read(ctx: Context, body: Any) -> bool:
    """Is this answer about an object Codat made before the plan read live state (a replay)?"""
    created = parse_time(body.get("created") if isinstance(body, dict) else None)
    return created is not None and ctx.read_at is not None and created < ctx.read_at


def parse_time(text: object) -> datetime | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None


def gone(exc: CodatHTTPError) -> bool:
    return exc.status == 404
