"""The plan as a JSON document (docs/plan-json.md): `plan --format json`, and the plan fields of
a saved plan (`reconcile.plans.file` adds its own and signs the whole).

Every field is always present; the checksum covers every field but `checksum` and
`observed_at`, so two plans of the same files and the same live state print the same document.
`reconcile.plans.file.decode` reads the document back into a `Plan`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from reconcile.plans import NOTE_KINDS, Action, Note, Plan, Request
from reconcile.plans.settings import SettingsChange

FORMAT_VERSION = "1"

# The parts of a plan document that vary between two plans of the same inputs.
UNCHECKED_FIELDS = frozenset({"checksum", "observed_at"})


def plan_to_dict(plan: Plan) -> dict[str, Any]:
    body: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "owner": plan.owner,
        "summary": plan.summary(),
        "changes": [
            {
                "uid": c.uid,
                "name": c.name,
                "verdict": c.verdict,
                "company_id": c.company_id,
                "actions": [_action_dict(a) for a in c.actions],
            }
            for c in plan.changes
        ],
        **{kind: [_note_dict(n) for n in plan.notes_of(kind)] for kind in NOTE_KINDS},
        "refused": [
            {"uid": r.uid, "name": r.name, "subject": r.subject, "reason": r.reason}
            for r in plan.refused
        ],
        "warnings": list(plan.warnings),
        "unsafe": plan.unsafe,
        "settings": [settings_dict(s) for s in plan.settings],
        "not_read": plan.not_read,
        "observed": dict(sorted(plan.observed.items())),
        "observed_at": plan.observed_at,
    }
    body["checksum"] = checksum(body)
    return body


def render_plan_json(plan: Plan) -> str:
    """The printed document (`plan --format json`): indented, non-ASCII escaped."""
    return json.dumps(plan_to_dict(plan), indent=2, sort_keys=False) + "\n"


def canonical(body: Mapping[str, Any]) -> bytes:
    """The bytes a checksum covers: every field but those that vary between equal plans."""
    covered = {k: v for k, v in body.items() if k not in UNCHECKED_FIELDS}
    return json.dumps(covered, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def checksum(body: Mapping[str, Any]) -> str:
    """Equal for two plans of the same files and the same live state (`observed_at` is not
    covered: it is when the plan was made, not what it does)."""
    return "sha256:" + hashlib.sha256(canonical(body)).hexdigest()


def _action_dict(a: Action) -> dict[str, Any]:
    return {
        "kind": a.kind.value,
        "uid": a.uid,
        "company_id": a.company_id,
        "subject": a.subject,
        "reason": a.reason,
        "connection_id": a.connection_id,
        "status": a.status,
        "before": _optional(a.before),
        "after": _optional(a.after),
        "request": _request_dict(a.request),
        "idempotency_key": a.idempotency_key,
    }


def settings_dict(change: SettingsChange) -> dict[str, Any]:
    """One change of the account's settings (docs/plan-json.md, `settings`)."""
    return {
        "kind": change.kind,
        "subject": change.subject,
        "sign": change.sign,
        "destructive": change.destructive,
        "lines": list(change.lines),
        "before": _optional(change.before),
        "after": _optional(change.after),
        "requests": [_request_dict(r) for r in change.requests],
    }


def _note_dict(n: Note) -> dict[str, Any]:
    """A note's fields but its kind (the notes are grouped by kind)."""
    return {k: v for k, v in dataclasses.asdict(n).items() if k != "kind"}


def _optional(m: Mapping[str, Any] | None) -> dict[str, Any] | None:
    return dict(m) if m is not None else None


def _request_dict(r: Request) -> dict[str, Any]:
    return {"method": r.method, "path": r.path, "body": r.body}
