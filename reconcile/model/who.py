"""Who must act on what waits: one model for converge, the audit, the watch and their outputs.

Everything that waits is waiting for someone (docs/design.md §13): the customer (authorize,
re-authorize), a review (a change in the file waits for a reviewed apply), converge (a follow-up
the policy pre-approves) or a person (a refusal, an error, a duplicate, a plan refused whole).

A `Waiting` never holds a Link URL: anyone who opens one can authorize that company, and a
`Waiting` reaches shared outputs (the watch's /status, logs, CI artifacts). Outputs that may show
one (on a flag) look it up in the plan's notes when they print.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from reconcile.plans import Action

Who = Literal["customer", "review", "converge", "person"]
# The order of docs/design.md §13: outputs about one pass list what waits in this order.
WHO: tuple[Who, ...] = ("customer", "review", "converge", "person")
# Most urgent first: the audit's reports group their findings in this order.
URGENCY: tuple[Who, ...] = ("person", "review", "converge", "customer")

# What a waiting item is.
WaitKind = Literal[
    "awaiting_authorization",
    "needs_reauthorization",
    "change",
    "refused",
    "duplicate",
    "unsafe_plan",
    "connection_error",
]


@dataclass(frozen=True)
class Waiting:
    """One thing that was not done, and who must act on it."""

    who: Who
    kind: WaitKind
    uid: str | None
    name: str
    company_id: str | None
    subject: str
    detail: str
    since: str | None = None  # ISO 8601: when the status changed, where Codat says so
    age: timedelta | None = None
    action: Action | None = None  # a change waiting for review
    facts: Mapping[str, Any] = field(default_factory=dict)

    @property
    def link_key(self) -> tuple[str | None, str, str]:
        """What finds this item's Link URL among a plan's notes: uid, kind and subject."""
        return (self.uid, self.kind, self.subject)
