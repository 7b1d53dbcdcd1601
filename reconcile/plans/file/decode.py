"""A plan JSON document (docs/plan-json.md, written by `reconcile.render.plan_json`) read back
into a `Plan`: what `apply --plan` and `show` run on. The summary and checksum are derived, so
they are not read (the reader verifies the signature over the whole document)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconcile.plans import (
    CUSTOMER_VERDICTS,
    NOTE_KINDS,
    Action,
    CustomerChange,
    Kind,
    Note,
    NoteKind,
    Plan,
    Refusal,
    Request,
)
from reconcile.plans.settings import SETTINGS_KINDS, SETTINGS_SIGNS, SettingsChange


class PlanFormatError(ValueError):
    """A document that does not describe a plan."""


def plan_from_dict(doc: Mapping[str, Any]) -> Plan:
    """The plan a `plan_to_dict` document describes; `PlanFormatError` when it is malformed."""
    try:
        return Plan(
            owner=_str(doc["owner"]),
            changes=tuple(_change_from(c) for c in doc["changes"]),
            notes=tuple(_note_from(kind, n) for kind in NOTE_KINDS for n in doc.get(kind) or ()),
            refused=tuple(
                Refusal(_str(r["uid"]), _str(r["name"]), _str(r["subject"]), _str(r["reason"]))
                for r in doc["refused"]
            ),
            warnings=tuple(_str(w) for w in doc["warnings"]),
            observed={_str(k): _str(v) for k, v in doc["observed"].items()},
            observed_at=_opt(doc.get("observed_at")),
            unsafe=_opt(doc.get("unsafe")),
            settings=tuple(_settings_from(s) for s in doc["settings"]),
            not_read=_opt(doc.get("not_read")),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise PlanFormatError(f"not a plan document ({type(exc).__name__}: {exc})") from None


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
    if verdict not in CUSTOMER_VERDICTS:
        raise ValueError(f"unknown verdict {verdict!r}")
    return CustomerChange(
        uid=_str(doc["uid"]),
        name=_str(doc["name"]),
        verdict=verdict,
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


def _settings_from(doc: Mapping[str, Any]) -> SettingsChange:
    kind, sign = _str(doc["kind"]), _str(doc["sign"])
    if kind not in SETTINGS_KINDS:
        raise ValueError(f"unknown settings kind {kind!r}")
    if sign not in SETTINGS_SIGNS:
        raise ValueError(f"unknown settings sign {sign!r}")
    destructive = doc["destructive"]
    if not isinstance(destructive, bool):
        raise TypeError(f"expected a boolean, found {type(destructive).__name__}")
    return SettingsChange(
        subject=_str(doc["subject"]),
        sign=sign,
        lines=tuple(_str(line) for line in doc["lines"]),
        requests=tuple(
            Request(_str(r["method"]), _str(r["path"]), r.get("body")) for r in doc["requests"]
        ),
        kind=kind,  # one of SETTINGS_KINDS: checked above
        destructive=destructive,
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
