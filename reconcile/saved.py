"""Saved plans (`plan --out`, `apply PLANFILE`, `show PLANFILE`): the document and its checks.

A saved plan is the `--format json` document plus what apply needs to run it later, exactly:
where it was made (`base_url`), from which files (`desired`), by which tool (`tool_version`),
and what it saw of every company it acts on (`seen`). Its `checksum` is an HMAC-SHA256 under the
API key over every field but `checksum` and `observed_at`, so a plan cannot be edited without the
key; `key_id` (an HMAC of a fixed label under the key) tells "made with another key" apart from
"edited". Nothing here does I/O: the CLI reads and writes files and asks Codat.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema

from reconcile.model import OWNER_TAG, UID_TAG, Company
from reconcile.plan import FORMAT_VERSION, Kind, Plan, PlanFormatError, canonical
from reconcile.render.escape import json_text, quoted, text

MARKER = "saved_plan"
SCHEMA_NAME = "plan.schema.json"
KEY_ID_LABEL = b"codat-reconcile saved-plan key id v1"
SNAPSHOT_FIELDS = ("name", "description", "tags", "connections")

Snapshot = dict[str, Any]


class SavedPlanError(Exception):
    """A saved plan that must not be applied (or read); the message says why and what to do."""


@dataclass(frozen=True)
class SavedPlan:
    """A saved plan read back: the document as written and the Plan it describes."""

    doc: Mapping[str, Any]
    plan: Plan

    @property
    def base_url(self) -> str:
        return str(self.doc["base_url"])

    @property
    def seen(self) -> Mapping[str, Snapshot]:
        seen: Mapping[str, Snapshot] = self.doc["seen"]
        return seen

    @property
    def tool_version(self) -> str:
        return str(self.doc["tool_version"])

    @property
    def desired_digest(self) -> str:
        return str(self.doc["desired"]["digest"])


# ---------------------------------------------------------------------- keys and digests


def key_id(api_key: str) -> str:
    """Which key a plan was made with, without revealing it."""
    mac = hmac.new(api_key.encode(), KEY_ID_LABEL, hashlib.sha256).hexdigest()
    return "hmac-sha256:" + mac[:16]


def sign(doc: Mapping[str, Any], api_key: str) -> str:
    mac = hmac.new(api_key.encode(), canonical(doc), hashlib.sha256).hexdigest()
    return "hmac-sha256:" + mac


def file_digest(content: bytes) -> str:
    return "sha256:" + hashlib.sha256(content).hexdigest()


def desired_digest(files: Sequence[tuple[str, bytes]]) -> dict[str, Any]:
    """The files' contents, digested independently of their names and order."""
    digests = [file_digest(content) for _, content in files]
    combined = hashlib.sha256("\n".join(sorted(digests)).encode()).hexdigest()
    return {
        "digest": "sha256:" + combined,
        "files": [{"path": name, "sha256": d} for (name, _), d in zip(files, digests, strict=True)],
    }


# ---------------------------------------------------------------------- what a plan saw


def snapshot(company: Company) -> Snapshot:
    """What a plan saw of a company, field by field (the `seen` entries)."""
    return {
        "name": company.name,
        "description": company.description or "",
        "tags": dict(sorted(company.tags.items())),
        "connections": [
            {
                "id": c.id,
                "source_type": c.source_type,
                "platform": c.platform_name,
                "integration_key": c.integration_key,
                "status": c.status,
            }
            for c in sorted(company.connections, key=lambda c: c.id)
        ],
    }


def touched(plan: Plan) -> list[str]:
    """The live companies the plan acts on (companies it creates have no id yet)."""
    return sorted({a.company_id for a in plan.actions if a.company_id is not None})


def created_uids(plan: Plan) -> list[str]:
    return sorted({a.uid for a in plan.actions if a.kind is Kind.CREATE_COMPANY})


# ---------------------------------------------------------------------- writing


def build(
    plan: Plan,
    *,
    api_key: str,
    base_url: str,
    tool_version: str,
    files: Sequence[tuple[str, bytes]],
    seen: Mapping[str, Company],
) -> dict[str, Any]:
    """The saved-plan document of `plan`, signed with `api_key`.

    `seen` must hold every company the plan acts on, as the plan saw it.
    """
    if plan.unsafe:
        raise SavedPlanError(f"the plan is refused as a whole ({plan.unsafe}); nothing is saved")
    missing = [cid for cid in touched(plan) if cid not in seen]
    if missing:
        raise SavedPlanError(f"internal: no snapshot of companies {', '.join(missing)}")
    body = plan.to_dict()
    plan_fields = {k: v for k, v in body.items() if k not in ("format_version", "checksum")}
    observed_at = plan_fields.pop("observed_at")
    doc: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        MARKER: True,
        "tool_version": tool_version,
        "base_url": base_url,
        "key_id": key_id(api_key),
        "desired": desired_digest(files),
        **plan_fields,
        "seen": {cid: snapshot(seen[cid]) for cid in touched(plan)},
        "observed_at": observed_at,
    }
    doc["checksum"] = sign(doc, api_key)
    return doc


def dumps(doc: Mapping[str, Any]) -> str:
    return json_text(json.dumps(doc, indent=2, ensure_ascii=False)) + "\n"


# ---------------------------------------------------------------------- reading


def looks_like_plan(raw: bytes) -> bool:
    """Whether a file's content is a plan document (by content, never by name): a JSON object
    with `format_version`. A saved plan also carries the marker; `parse` says when it lacks it,
    so a plan printed by `--format json` is answered as such, not read as a customers file."""
    if not raw.lstrip().startswith(b"{"):
        return False
    try:
        doc = json.loads(raw)
    except ValueError:
        return False
    return isinstance(doc, dict) and "format_version" in doc


def parse(raw: bytes, source: str, *, require_saved: bool = True) -> SavedPlan:
    """Read a plan document (structure and format version; not the signature)."""
    try:
        doc = json.loads(raw)
    except ValueError as exc:
        raise SavedPlanError(f"{source}: not a plan file (not JSON: {exc})") from None
    if not isinstance(doc, dict) or "format_version" not in doc:
        raise SavedPlanError(f"{source}: not a plan file (no format_version)")
    version = doc["format_version"]
    if version != FORMAT_VERSION:
        made_by = doc.get("tool_version")
        by = f" by reconcile {text(made_by)}" if isinstance(made_by, str) else ""
        raise SavedPlanError(
            f"{source}: plan format_version {quoted(version)} is unknown to this reconcile "
            f"(it reads format_version {quoted(FORMAT_VERSION)}); the plan was written{by}. "
            "Apply it with the reconcile version that wrote it, or make a new plan."
        )
    if require_saved and doc.get(MARKER) is not True:
        raise SavedPlanError(
            f"{source}: a plan printed by `plan --format json`, not a saved plan: it carries no "
            "signature and no record of what it saw, so it cannot be applied. "
            "Save one with `reconcile plan PATH... --out FILE`."
        )
    problems = structure_problems(doc)
    if problems:
        listed = "; ".join(problems[:5])
        raise SavedPlanError(f"{source}: not a valid plan file: {listed}")
    try:
        plan = Plan.from_dict(doc)
    except PlanFormatError as exc:  # pragma: no cover - the schema rules these out
        raise SavedPlanError(f"{source}: {exc}") from None
    return SavedPlan(doc, plan)


@functools.cache
def plan_schema() -> dict[str, Any]:
    """schemas/plan.schema.json, from the installed package or the source checkout."""
    packaged = resources.files("reconcile") / "schemas" / SCHEMA_NAME
    if packaged.is_file():
        loaded: dict[str, Any] = json.loads(packaged.read_text(encoding="utf-8"))
        return loaded
    source = Path(__file__).resolve().parents[1] / "schemas" / SCHEMA_NAME
    loaded = json.loads(source.read_text(encoding="utf-8"))
    return loaded


def structure_problems(doc: object) -> list[str]:
    """What makes `doc` not a plan document of this format (empty: it is one)."""
    validator = jsonschema.Draft202012Validator(plan_schema())
    found = sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.absolute_path)))
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '(top level)'}: {text(e.message)}" for e in found
    ]


def verify(saved: SavedPlan, *, api_key: str, base_url: str, source: str) -> None:
    """Refuse a plan made with another key, edited since, or made against another Codat."""
    doc = saved.doc
    if doc["key_id"] != key_id(api_key):
        raise SavedPlanError(
            f"{source} was made for another Codat account: it was signed with a different API "
            "key than this run's. Apply it with the key it was made with, or make a new plan "
            "with this key."
        )
    if not hmac.compare_digest(str(doc["checksum"]), sign(doc, api_key)):
        raise SavedPlanError(
            f"{source} was edited after it was saved: its checksum does not match its content "
            "(the key is the one it was made with). A saved plan cannot be changed; make a new "
            "plan."
        )
    if saved.base_url != base_url:
        raise SavedPlanError(
            f"{source} was made against {quoted(saved.base_url)}, and this run talks to "
            f"{quoted(base_url)}. Apply it where it was made (CODAT_BASE_URL), or make a new plan."
        )


def check_files(saved: SavedPlan, files: Sequence[tuple[str, bytes]], source: str) -> None:
    """Refuse when the plan was made from other file contents than `files`."""
    now = desired_digest(files)["digest"]
    if now != saved.desired_digest:
        made = ", ".join(text(f["path"]) for f in saved.doc["desired"]["files"]) or "no files"
        given = ", ".join(text(name) for name, _ in files)
        raise SavedPlanError(
            f"{source} was made from other contents than {given} hold now (it was made from "
            f"{made}): the files changed after the plan was made. Make a new plan from these "
            "files, review it, and apply that."
        )


# ---------------------------------------------------------------------- staleness


def stale_findings(
    saved: SavedPlan, live: Iterable[Company], gone: Iterable[str] = ()
) -> list[str]:
    """Everything that changed behind the plan's back, one line per change, field by field.

    `live` holds the companies read again just before apply (the owner's, plus the adopted ones
    read by id); `gone` the ids Codat answered 404 for.
    """
    plan = saved.plan
    by_id = {c.id: c for c in live}
    gone_ids = set(gone)
    names = {a.company_id: a.uid for a in plan.actions if a.company_id}
    found: list[str] = []
    for cid, then in sorted(saved.seen.items()):
        who = f"{text(names.get(cid, '?'))} company {text(cid)} {quoted(then['name'])}"
        company = by_id.get(cid)
        if company is None or cid in gone_ids:
            found.append(f"{who}: deleted")
            continue
        found.extend(f"{who}: {change}" for change in snapshot_changes(then, snapshot(company)))
    acted_on = {a.uid for a in plan.actions}
    seen_ids = set(saved.seen)
    creates = set(created_uids(plan))
    for company in sorted(by_id.values(), key=lambda c: (c.uid or "", c.id)):
        uid = company.uid
        if company.owner != plan.owner or uid is None or company.id in seen_ids:
            continue
        if uid in creates:
            found.append(
                f"{text(uid)}: company {text(company.id)} {quoted(company.name)} with "
                f"{OWNER_TAG}={text(plan.owner)} {UID_TAG}={text(uid)} appeared, where the plan "
                "creates one"
            )
        elif uid in acted_on:
            found.append(
                f"{text(uid)}: a second company {text(company.id)} {quoted(company.name)} with "
                f"{UID_TAG}={text(uid)} appeared"
            )
    return found


def snapshot_changes(then: Snapshot, now: Snapshot) -> list[str]:
    changes: list[str] = []
    for field in ("name", "description"):
        if then[field] != now[field]:
            changes.append(f"{field} {quoted(then[field])} -> {quoted(now[field])}")
    changes.extend(_tag_changes(then["tags"], now["tags"]))
    changes.extend(_connection_changes(then["connections"], now["connections"]))
    return changes


def _tag_changes(then: Mapping[str, str], now: Mapping[str, str]) -> list[str]:
    changes: list[str] = []
    for key in sorted(set(then) | set(now)):
        old, new = then.get(key), now.get(key)
        if old == new:
            continue
        if old is None:
            changes.append(f"tag added {text(key)}={text(new)}")
        elif new is None:
            changes.append(f"tag removed {text(key)}={text(old)}")
        else:
            changes.append(f"tag {text(key)} {quoted(old)} -> {quoted(new)}")
    return changes


def _connection_changes(
    then: Sequence[Mapping[str, Any]], now: Sequence[Mapping[str, Any]]
) -> list[str]:
    old = {c["id"]: c for c in then}
    new = {c["id"]: c for c in now}
    changes: list[str] = []
    for cid in sorted(set(old) | set(new)):
        before, after = old.get(cid), new.get(cid)
        label = _connection_label(after or before or {})
        if before is None and after is not None:
            changes.append(f"connection {label} added, {text(after['status'])}")
        elif after is None and before is not None:
            changes.append(f"connection {label} removed (was {text(before['status'])})")
        elif before is not None and after is not None:
            if before["status"] != after["status"]:
                changes.append(
                    f"connection {label} status {text(before['status'])} -> {text(after['status'])}"
                )
            for field in ("platform", "integration_key", "source_type"):
                if before[field] != after[field]:
                    changes.append(
                        f"connection {label} {field} {quoted(before[field])} -> "
                        f"{quoted(after[field])}"
                    )
    return changes


def _connection_label(conn: Mapping[str, Any]) -> str:
    platform = conn.get("platform") or conn.get("integration_key") or "?"
    return f"{text(conn.get('id', '?'))} ({text(platform)})"
