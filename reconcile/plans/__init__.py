"""The Plan: what the planner decided, as plain data that renderers and the executor read.

A plan is a list of per-customer changes (each an ordered list of actions), plus the things that
are *not* changes (deferred, awaiting authorization, needing re-authorization), refusals and
warnings. Its JSON document (docs/plan-json.md) is written by `reconcile.render.plan_json` and
read back, for a saved plan, by `reconcile.plans.file.decode`.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal, get_args

from reconcile.model import Company


class Kind(StrEnum):
    CREATE_COMPANY = "create_company"
    UPDATE_COMPANY = "update_company"
    DELETE_COMPANY = "delete_company"
    UNLINK_CONNECTION = "unlink_connection"
    DELETE_CONNECTION = "delete_connection"
    CREATE_CONNECTION = "create_connection"
    CREATE_PARTNER_EXPENSE = "create_partner_expense"
    SET_EXPENSE_CONFIG = "set_expense_config"
    REFRESH_DATA = "refresh_data"

    @property
    def bucket(self) -> Literal["create", "update", "unlink", "delete"]:
        return _BUCKETS[self]

    @property
    def destructive(self) -> bool:
        return self.bucket in ("unlink", "delete")


_BUCKETS: dict[Kind, Literal["create", "update", "unlink", "delete"]] = {
    Kind.CREATE_COMPANY: "create",
    Kind.CREATE_CONNECTION: "create",
    Kind.CREATE_PARTNER_EXPENSE: "create",
    Kind.UPDATE_COMPANY: "update",
    Kind.SET_EXPENSE_CONFIG: "update",
    Kind.REFRESH_DATA: "update",
    Kind.UNLINK_CONNECTION: "unlink",
    Kind.DELETE_CONNECTION: "delete",
    Kind.DELETE_COMPANY: "delete",
}

# What a plan says of drift that cut a customer off (a company or an authorized accounting
# connection gone behind the tool): the planner writes it into the action's reason, and every
# output reads it back through `Action.cuts_off_customer`.
MUST_AUTHORIZE_AGAIN = "the customer must authorize again"
CUT_OFF = "deleted outside the tool: " + MUST_AUTHORIZE_AGAIN

# `{companyId}` in a request path stands for the id of a company this plan creates.
COMPANY_PLACEHOLDER = "{companyId}"


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    body: Any = None

    def resolved(self, company_id: str) -> Request:
        return Request(self.method, self.path.replace(COMPANY_PLACEHOLDER, company_id), self.body)


@dataclass(frozen=True)
class Action:
    kind: Kind
    uid: str
    company_id: str | None  # None: the company is created earlier in the same plan
    subject: str  # what it acts on, for people: "company", "QuickBooks Online (qhyg)", ...
    reason: str
    request: Request
    idempotency_key: str | None = None
    connection_id: str | None = None
    status: str | None = None  # the live status of the connection acted on
    before: Mapping[str, Any] | None = None
    after: Mapping[str, Any] | None = None

    @property
    def cuts_off_customer(self) -> bool:
        """A create that restores what drift took from a customer who must authorize again
        (for a person to hear of, not a routine change)."""
        return (
            self.kind in (Kind.CREATE_COMPANY, Kind.CREATE_CONNECTION)
            and MUST_AUTHORIZE_AGAIN in self.reason
        )


SettingsKind = Literal["sync_settings", "webhook_consumer"]
SETTINGS_KINDS: tuple[SettingsKind, ...] = get_args(SettingsKind)
SETTINGS_SIGNS = ("+", "~")


@dataclass(frozen=True)
class SettingsChange:
    """One change of the account's settings (`reconcile.plans.settings` says what each field
    holds): what, the differences for people, the writes, and what it saw and wants."""

    subject: str
    sign: str  # "+" create, "~" change
    lines: tuple[str, ...]
    requests: tuple[Request, ...]
    kind: SettingsKind = "sync_settings"
    destructive: bool = False
    before: Mapping[str, Any] | None = None
    after: Mapping[str, Any] | None = None


NoteKind = Literal["deferred", "blocked", "awaiting_authorization", "needs_reauthorization"]
# The subject of a deferred note on a refresh_data held for its period (or one in progress).
REFRESH_HELD = "refresh data"


@dataclass(frozen=True)
class Note:
    """Something worth telling that is not a change (applying it would do nothing)."""

    kind: NoteKind
    uid: str
    name: str
    subject: str
    text: str
    link_url: str | None = None
    since: str | None = None

    def without_link(self) -> Note:
        """The note with no Link URL (`dataclasses.replace` costs 4x as much: a plan of
        10,000 customers has thousands of notes)."""
        return Note(self.kind, self.uid, self.name, self.subject, self.text, None, self.since)


@dataclass(frozen=True)
class Refusal:
    """A change the rules want but safety forbids, with the reason and what to do."""

    uid: str
    name: str
    subject: str
    reason: str


CustomerVerdict = Literal["create", "update", "offboard", "delete"]


@dataclass(frozen=True)
class CustomerChange:
    uid: str
    name: str
    verdict: CustomerVerdict
    company_id: str | None
    actions: tuple[Action, ...]


@dataclass(frozen=True)
class Plan:
    owner: str
    changes: tuple[CustomerChange, ...] = ()
    notes: tuple[Note, ...] = ()
    refused: tuple[Refusal, ...] = ()
    warnings: tuple[str, ...] = ()
    # company id -> fingerprint of what the plan saw; `apply PLANFILE` re-checks these.
    observed: Mapping[str, str] = field(default_factory=dict)
    observed_at: str | None = None  # Codat's clock when live state was read
    # Set when the plan is refused as a whole (a safety guard): nothing of it may be applied.
    unsafe: str | None = None
    # The account settings' changes of the run's environment (`reconcile.plans.settings`):
    # apply makes them before the customers' actions. Not counted in `summary` nor in
    # `has_changes`, which are the customers'.
    settings: tuple[SettingsChange, ...] = ()
    # What the plan chose not to read, and who covers it, in one line (a pull request's plan
    # reads only the expense configs of the customers it changes); None: it read everything.
    not_read: str | None = None
    # Companies with a Linked accounting connection when the plan was made: only their ids may
    # be shown in a terminal or a log (any other company's id is a Link URL while it awaits
    # authorization). Not saved: a plan read back from a file shows no company id.
    linked: frozenset[str] = field(default=frozenset(), compare=False)

    @property
    def actions(self) -> tuple[Action, ...]:
        return tuple(a for c in self.changes for a in c.actions)

    @property
    def has_changes(self) -> bool:
        return any(c.actions for c in self.changes)

    def summary(self) -> dict[str, int]:
        counts = {"create": 0, "update": 0, "unlink": 0, "delete": 0}
        for action in self.actions:
            counts[action.kind.bucket] += 1
        return counts

    def notes_of(self, kind: NoteKind) -> tuple[Note, ...]:
        return tuple(n for n in self.notes if n.kind == kind)


NOTE_KINDS: tuple[NoteKind, ...] = get_args(NoteKind)
CUSTOMER_VERDICTS: tuple[CustomerVerdict, ...] = get_args(CustomerVerdict)


def fingerprint(company: Company) -> str:
    """What a plan saw of a company; a saved plan is stale when this changes."""
    seen = {
        "name": company.name,
        "description": company.description or "",
        "tags": dict(sorted(company.tags.items())),
        "connections": sorted((c.id, c.status) for c in company.connections),
    }
    return "sha256:" + hashlib.sha256(json.dumps(seen, sort_keys=True).encode()).hexdigest()


class Fingerprints(Mapping[str, str]):
    """company id -> `fingerprint`, each computed on first read: a plan hashes only what is asked
    of it (a saved plan asks for every one; an apply in the same process, the few it re-checks)."""

    __slots__ = ("_companies", "_known")

    def __init__(self, companies: Mapping[str, Company]) -> None:
        self._companies = companies
        self._known: dict[str, str] = {}

    def __getitem__(self, company_id: str) -> str:
        known = self._known.get(company_id)
        if known is None:
            known = self._known[company_id] = fingerprint(self._companies[company_id])
        return known

    def __iter__(self) -> Iterator[str]:
        return iter(self._companies)

    def __len__(self) -> int:
        return len(self._companies)

    def __repr__(self) -> str:
        return repr(dict(self))


def derive_key(*parts: object) -> str:
    """A deterministic UUID-shaped Idempotency-Key from what an action is and what it saw."""
    digest = hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))
