"""One declared customer's place in the onboarding funnel (docs/design.md §13): plain data, made by
`reconcile.facts.onboarding` from a read of Codat, shown by the status page and the HTML audit.
Never a Link URL or a company id."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Stage = Literal[
    "declared", "awaiting", "reauthorization", "authorized", "partner_connection", "configured"
]
# The funnel, in order (re-authorization sits beside it: it is a step back)
FUNNEL: tuple[Stage, ...] = (
    "declared",
    "awaiting",
    "authorized",
    "partner_connection",
    "configured",
)
STAGE_TEXT: dict[Stage, str] = {
    "declared": "Declared",
    "awaiting": "Awaiting authorization",
    "reauthorization": "Needs re-authorization",
    "authorized": "Authorized",
    "partner_connection": "Partner connection",
    "configured": "Configured",
}


@dataclass(frozen=True)
class Onboarding:
    """One declared customer's place in the funnel. `since`: when the stage's connection was
    created (awaiting) or last reported an error (reauthorization), when Codat says."""

    uid: str
    name: str
    stage: Stage
    platform: str | None = None
    since: str | None = None
    error: str | None = None  # the newest active connection error Codat reports
