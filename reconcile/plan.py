"""The Plan: what the planner decided, as plain data that renderers and the executor read.

A plan is a list of per-customer changes (each an ordered list of actions), plus the things that
are *not* changes (deferred, awaiting authorization, needing re-authorization), refusals and
warnings. It serialises to a versioned JSON document with a checksum.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

from reconcile.model import Company

FORMAT_VERSION = "1"


class Kind(StrEnum):
    CREATE_COMPANY = "create_company"
    UPDATE_COMPANY = "update_company"
    DELETE_COMPANY = "delete_company"
    UNLINK_CONNECTION = "unlink_connection"
    DELETE_CONNECTION = "delete_connection"
    CREATE_CONNECTION = "create_connection"
    CREATE_PARTNER_EXPENSE = "create_partner_expense"
    SET_EXPENSE_CONFIG = "set_expense_config"

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
    Kind.UNLINK_CONNECTION: "unlink",
    Kind.DELETE_CONNECTION: "delete",
    Kind.DELETE_COMPANY: "delete",
}

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


NoteKind = Literal["deferred", "blocked", "awaiting_authorization", "needs_reauthorization"]


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

    # ------------------------------------------------------------------ JSON

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "format_version": FORMAT_VERSION,
            "owner": self.owner,
            "summary": self.summary(),
            "changes": [
                {
                    "uid": c.uid,
                    "name": c.name,
                    "verdict": c.verdict,
                    "company_id": c.company_id,
                    "actions": [_action_dict(a) for a in c.actions],
                }
                for c in self.changes
            ],
            "deferred": [_note_dict(n) for n in self.notes_of("deferred")],
            "awaiting_authorization": [
                _note_dict(n) for n in self.notes_of("awaiting_authorization")
            ],
            "needs_reauthorization": [
                _note_dict(n) for n in self.notes_of("needs_reauthorization")
            ],
            "refused": [
                {"uid": r.uid, "name": r.name, "subject": r.subject, "reason": r.reason}
                for r in self.refused
            ],
            "warnings": list(self.warnings),
            "unsafe": self.unsafe,
            "observed": dict(sorted(self.observed.items())),
            "observed_at": self.observed_at,
        }
        body["checksum"] = checksum(body)
        return body

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=False) + "\n"


def _action_dict(a: Action) -> dict[str, Any]:
    return {
        "kind": a.kind.value,
        "uid": a.uid,
        "company_id": a.company_id,
        "subject": a.subject,
        "reason": a.reason,
        "connection_id": a.connection_id,
        "status": a.status,
        "before": dict(a.before) if a.before is not None else None,
        "after": dict(a.after) if a.after is not None else None,
        "request": {"method": a.request.method, "path": a.request.path, "body": a.request.body},
        "idempotency_key": a.idempotency_key,
    }


def _note_dict(n: Note) -> dict[str, Any]:
    return {
        "uid": n.uid,
        "name": n.name,
        "subject": n.subject,
        "text": n.text,
        "link_url": n.link_url,
        "since": n.since,
    }


def checksum(body: Mapping[str, Any]) -> str:
    canonical = json.dumps(
        {k: v for k, v in body.items() if k != "checksum"}, sort_keys=True, separators=(",", ":")
    )
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def fingerprint(company: Company) -> str:
    """What a plan saw of a company; a saved plan is stale when this changes."""
    seen = {
        "name": company.name,
        "description": company.description or "",
        "tags": dict(sorted(company.tags.items())),
        "connections": sorted((c.id, c.status) for c in company.connections),
    }
    return "sha256:" + hashlib.sha256(json.dumps(seen, sort_keys=True).encode()).hexdigest()


def derive_key(*parts: object) -> str:
    """A deterministic UUID-shaped Idempotency-Key from what an action is and what it saw."""
    digest = hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))
