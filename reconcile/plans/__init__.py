"""The Plan: what the planner decided, as plain data that renderers and the executor read.

A plan is a list of per-customer changes (each an ordered list of actions), plus the things that
are *not* changes (deferred, awaiting authorization, needing re-authorization), refusals and
warnings. It serialises to a versioned JSON document with a checksum.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal, cast, get_args

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
            **{kind: [_note_dict(n) for n in self.notes_of(kind)] for kind in NOTE_KINDS},
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

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> Plan:
        """The plan a `to_dict` document describes; `PlanFormatError` when it is malformed.

        The summary and checksum are derived, so they are not read (the caller verifies them).
        """
        try:
            return cls(
                owner=_str(doc["owner"]),
                changes=tuple(_change_from(c) for c in doc["changes"]),
                notes=tuple(
                    _note_from(kind, n) for kind in NOTE_KINDS for n in doc.get(kind) or ()
                ),
                refused=tuple(
                    Refusal(_str(r["uid"]), _str(r["name"]), _str(r["subject"]), _str(r["reason"]))
                    for r in doc["refused"]
                ),
                warnings=tuple(_str(w) for w in doc["warnings"]),
                observed={_str(k): _str(v) for k, v in doc["observed"].items()},
                observed_at=_opt(doc.get("observed_at")),
                unsafe=_opt(doc.get("unsafe")),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise PlanFormatError(f"not a plan document ({type(exc).__name__}: {exc})") from None


class PlanFormatError(ValueError):
    """A document that does not describe a plan."""


NOTE_KINDS: tuple[NoteKind, ...] = get_args(NoteKind)

# The parts of a plan document that vary between two plans of the same inputs.
UNCHECKED_FIELDS = frozenset({"checksum", "observed_at"})


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


def _str(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, found {type(value).__name__}")
    return value


def _opt(value: object) -> str | None:
    return None if value is None else _str(value)


def _mapping(value: object) -> Mapping[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise TypeError(f"expected an object, found {type(value).__name__}")
    return dict(value)


def _change_from(doc: Mapping[str, Any]) -> CustomerChange:
    verdict = _str(doc["verdict"])
    if verdict not in get_args(CustomerVerdict):
        raise ValueError(f"unknown verdict {verdict!r}")
    return CustomerChange(
        uid=_str(doc["uid"]),
        name=_str(doc["name"]),
        verdict=cast(CustomerVerdict, verdict),
        company_id=_opt(doc["company_id"]),
        actions=tuple(_action_from(a) for a in doc["actions"]),
    )


def _action_from(doc: Mapping[str, Any]) -> Action:
    request = doc["request"]
    return Action(
        kind=Kind(_str(doc["kind"])),
        uid=_str(doc["uid"]),
        company_id=_opt(doc["company_id"]),
        subject=_str(doc["subject"]),
        reason=_str(doc["reason"]),
        request=Request(_str(request["method"]), _str(request["path"]), request.get("body")),
        idempotency_key=_opt(doc.get("idempotency_key")),
        connection_id=_opt(doc.get("connection_id")),
        status=_opt(doc.get("status")),
        before=_mapping(doc.get("before")),
        after=_mapping(doc.get("after")),
    )


def _note_from(kind: NoteKind, doc: Mapping[str, Any]) -> Note:
    return Note(
        kind=kind,
        uid=_str(doc["uid"]),
        name=_str(doc["name"]),
        subject=_str(doc["subject"]),
        text=_str(doc["text"]),
        link_url=_opt(doc.get("link_url")),
        since=_opt(doc.get("since")),
    )


def canonical(body: Mapping[str, Any]) -> bytes:
    """The bytes a checksum covers: every field but those that vary between equal plans."""
    covered = {k: v for k, v in body.items() if k not in UNCHECKED_FIELDS}
    return json.dumps(covered, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def checksum(body: Mapping[str, Any]) -> str:
    """Equal for two plans of the same files and the same live state (`observed_at` is not
    covered: it is when the plan was made, not what it does)."""
    return "sha256:" + hashlib.sha256(canonical(body)).hexdigest()


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
