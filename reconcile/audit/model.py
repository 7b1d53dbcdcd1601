"""The audit's data: finding kinds (most urgent first), one finding, the whole report.

Plain frozen data, no I/O: `findings.py` makes them, `reconcile/render/audit_*.py` print them.
Each kind has one actor (`FindingKind.who`, the one model of `reconcile.model.who`): the
customer, a review, converge or a person; the reports group by it, most urgent first
(`reconcile.model.who.URGENCY`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import Any

from reconcile.model.who import Who

FORMAT_VERSION = "1"

WHO_HEADINGS: dict[Who, str] = {
    "person": "For a person",
    "review": "For a review (a reviewed apply)",
    "converge": "For converge (ready follow-ups the policy pre-approves)",
    "customer": "For the customer",
}


class FindingKind(StrEnum):
    """Declared most urgent first: text and Markdown print the kinds in this order."""

    CUT_OFF = "cut_off"
    DUPLICATES = "duplicates"
    FOREIGN = "foreign"
    REFUSED = "refused"
    CONNECTION_ERRORS = "connection_errors"
    NEEDS_REAUTHORIZATION = "needs_reauthorization"
    AT_RISK = "at_risk"  # `--health`: Codat will deauthorize it
    CHANGES = "changes"
    ACCOUNT_SETTINGS = "account_settings"  # the environment's settings differ from the file
    FOLLOW_UPS = "follow_ups"
    STALE_AUTHORIZATION = "stale_authorization"
    MISSING_REFERENCES = "missing_references"  # `--health`
    DEGRADED = "degraded"  # `--health`
    ORPHANS = "orphans"
    UNMANAGED_LOOKALIKES = "unmanaged_lookalikes"
    AWAITING_AUTHORIZATION = "awaiting_authorization"

    @property
    def heading(self) -> str:
        return _TITLES[self]

    @property
    def who(self) -> Who:
        """Who must act on a finding of this kind."""
        return _WHO[self]


_TITLES: dict[FindingKind, str] = {
    FindingKind.CUT_OFF: "Cut off: deleted outside the tool, the customer must authorize again",
    FindingKind.DUPLICATES: "Duplicates: several companies carry the same uid",
    FindingKind.FOREIGN: "Foreign: id: names a company of another owner",
    FindingKind.CONNECTION_ERRORS: "Connection errors reported by Codat",
    FindingKind.NEEDS_REAUTHORIZATION: "Needs re-authorization",
    FindingKind.REFUSED: "Refused: changes the rules want but safety forbids",
    FindingKind.CHANGES: "Changes waiting for a reviewed apply",
    FindingKind.FOLLOW_UPS: "Follow-ups ready: converge applies them (policy.auto)",
    FindingKind.STALE_AUTHORIZATION: "Stale authorization: awaiting the customer for too long",
    FindingKind.AT_RISK: "At risk: no successful sync for too long; Codat deauthorizes it on the"
    " day shown",
    FindingKind.ACCOUNT_SETTINGS: "Account settings differ from the file: apply restores them",
    FindingKind.MISSING_REFERENCES: "Missing references: the expense config names records the"
    " accounting platform no longer has",
    FindingKind.DEGRADED: "Degraded: data Sync for Expenses needs is missing, failing or old",
    FindingKind.ORPHANS: "Orphans: managed companies no file lists",
    FindingKind.UNMANAGED_LOOKALIKES: "Unmanaged look-alikes: candidates for adoption with id:",
    FindingKind.AWAITING_AUTHORIZATION: "Awaiting customer authorization",
}

_WHO: dict[FindingKind, Who] = {
    FindingKind.CUT_OFF: "person",
    FindingKind.DUPLICATES: "person",
    FindingKind.FOREIGN: "person",
    FindingKind.REFUSED: "person",
    FindingKind.CONNECTION_ERRORS: "person",
    FindingKind.AT_RISK: "person",
    FindingKind.DEGRADED: "person",
    FindingKind.MISSING_REFERENCES: "review",
    FindingKind.ORPHANS: "person",
    FindingKind.UNMANAGED_LOOKALIKES: "person",
    FindingKind.CHANGES: "review",
    FindingKind.ACCOUNT_SETTINGS: "review",
    FindingKind.FOLLOW_UPS: "converge",
    FindingKind.NEEDS_REAUTHORIZATION: "customer",
    FindingKind.STALE_AUTHORIZATION: "customer",
    FindingKind.AWAITING_AUTHORIZATION: "customer",
}

KIND_ORDER: tuple[FindingKind, ...] = tuple(FindingKind)

DEFAULT_FAIL_ON: frozenset[FindingKind] = frozenset(
    {
        FindingKind.CUT_OFF,
        FindingKind.CHANGES,
        FindingKind.FOLLOW_UPS,
        FindingKind.REFUSED,
        FindingKind.DUPLICATES,
        FindingKind.FOREIGN,
        FindingKind.NEEDS_REAUTHORIZATION,
        FindingKind.CONNECTION_ERRORS,
        FindingKind.STALE_AUTHORIZATION,
        FindingKind.AT_RISK,
        FindingKind.MISSING_REFERENCES,
        FindingKind.DEGRADED,
        FindingKind.ACCOUNT_SETTINGS,
    }
)

DEFAULT_STALE_AFTER = timedelta(days=14)

# Facts that change between two reports of the same finding.
VOLATILE_FACTS = frozenset({"age_seconds"})


@dataclass(frozen=True)
class Finding:
    """One thing the audit found about one customer or company.

    `uid` and `name` are the customer's when a file lists it (the company's otherwise; `uid` is
    None for a company without a uid tag); `since` is an ISO 8601 time where Codat says one
    (a connection's `created`, an error's `erroredOnUtc`); `facts` holds the kind's own fields
    (documented in docs/audit-json.md)."""

    kind: FindingKind
    uid: str | None
    name: str
    company_id: str | None
    detail: str
    since: str | None = None
    link_url: str | None = None
    facts: Mapping[str, Any] = field(default_factory=dict)
    new: bool | None = None  # with `--since`: not in the earlier report (None: not compared)

    @property
    def key(self) -> str:
        """The finding's identity across reports (what `--since` compares): its kind, customer,
        company and the facts that say what it is, never its age or wording."""
        stable = {k: v for k, v in sorted(self.facts.items()) if k not in VOLATILE_FACTS}
        seen = json.dumps(
            [self.kind.value, self.uid, self.company_id, stable], sort_keys=True, default=str
        )
        return "sha256:" + hashlib.sha256(seen.encode()).hexdigest()[:32]

    def sort_key(self) -> tuple[int, str, str]:
        """Kind (most urgent first), uid, company; a stable sort keeps the planner's action
        order within a customer."""
        return (KIND_ORDER.index(self.kind), self.uid or "\uffff", self.company_id or "")


@dataclass(frozen=True)
class Audit:
    """The whole report of one run."""

    owner: str
    findings: tuple[Finding, ...]
    fail_on: frozenset[FindingKind] = DEFAULT_FAIL_ON
    stale_after: timedelta = DEFAULT_STALE_AFTER
    files: tuple[str, ...] = ()
    customers: int = 0
    companies_read: int = 0
    managed: int = 0
    requests: int = 0
    read_at: str | None = None
    warnings: tuple[str, ...] = ()
    since_report: str | None = None  # `--since`: the earlier report's read_at
    resolved: int = 0  # `--since`: findings of the earlier report no longer found
    health: Mapping[str, int] | None = None  # `--health`: customers by health state
    # Companies with a Linked accounting connection: only their ids may be shown in a terminal
    # or a log (any other company's id is a Link URL while it awaits authorization).
    linked: frozenset[str] = frozenset()

    def of(self, kind: FindingKind) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.kind == kind)

    def counts(self) -> dict[str, int]:
        return {kind.value: len(self.of(kind)) for kind in KIND_ORDER}

    @property
    def drift(self) -> bool:
        """Whether any finding is of a kind that counts as drift (`--fail-on`)."""
        return any(f.kind in self.fail_on for f in self.findings)

    def by_who(self, who: Who) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.kind.who == who)

    @property
    def new(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.new)

    @property
    def failing(self) -> tuple[FindingKind, ...]:
        return tuple(k for k in KIND_ORDER if k in self.fail_on and self.of(k))
