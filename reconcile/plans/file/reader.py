"""Reading a saved plan back: cheap and strict, one clear line for anything that is not one.

In order, each refusal before any more work: the size (16 MB at most), strict JSON (no duplicate
keys, no lone surrogates, no nesting deeper than any plan has), the format version and the
saved-plan marker, the signature (key id, then MAC: an unsigned or edited document is never
schema-validated), and only then the schema and the Plan it describes. Nothing here talks to
Codat; `verify` checks the rest against this run (account, base URL, expiry, edited requests).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from reconcile.escape import quoted, text
from reconcile.plans.file.decode import PlanFormatError, plan_from_dict
from reconcile.plans.file.document import MARKER, SavedPlan, canonical
from reconcile.plans.file.errors import SavedPlanError
from reconcile.plans.file.signing import SigningKey
from reconcile.render.plan_json import FORMAT_VERSION

MAX_PLAN_BYTES = 16 * 1024 * 1024
MAX_DEPTH = 24
SCHEMA_NAME = "plan.schema.json"


def read_capped(path: Path) -> bytes:
    """A file's bytes, refused (unread) above the cap."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_PLAN_BYTES + 1)
    except OSError as exc:
        raise SavedPlanError(f"cannot read {path}: {exc.strerror or exc}") from None
    if len(raw) > MAX_PLAN_BYTES:
        raise SavedPlanError(
            f"{path}: larger than {MAX_PLAN_BYTES // (1024 * 1024)} MB, so not a plan this tool "
            "wrote; make the plan again"
        )
    return raw


def strict_json(raw: bytes, source: str) -> Any:
    """JSON as a plan is written: UTF-8, unique keys, no lone surrogates, shallow."""
    if len(raw) > MAX_PLAN_BYTES:
        raise SavedPlanError(f"{source}: larger than {MAX_PLAN_BYTES // (1024 * 1024)} MB")
    try:
        doc = json.loads(raw.decode("utf-8"), object_pairs_hook=_unique_keys)
    except UnicodeDecodeError:
        raise SavedPlanError(f"{source}: not a plan file (not UTF-8)") from None
    except RecursionError:
        raise SavedPlanError(f"{source}: not a plan file (nested too deeply)") from None
    except _DuplicateKey as exc:
        why = f"duplicate key {quoted(exc.key)}"
        raise SavedPlanError(f"{source}: not a plan file ({why})") from None
    except ValueError as exc:
        raise SavedPlanError(f"{source}: not a plan file (not JSON: {text(str(exc))})") from None
    _check_tree(doc, source)
    return doc


def parse(
    raw: bytes, source: str, key: SigningKey | None, *, require_saved: bool = True
) -> SavedPlan:
    """A saved plan, its signature checked under `key` before its structure (None: only
    `show` without a key, which says the signature was not checked)."""
    doc = strict_json(raw, source)
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
    if key is not None:
        check_signature(doc, key, source)
    problems = structure_problems(doc)
    if problems:
        raise SavedPlanError(f"{source}: not a valid plan file: {'; '.join(problems[:5])}")
    try:
        plan = plan_from_dict(doc)
    except PlanFormatError as exc:  # pragma: no cover - the schema rules these out
        raise SavedPlanError(f"{source}: {exc}") from None
    return SavedPlan(doc, plan)


def check_signature(doc: Mapping[str, Any], key: SigningKey, source: str) -> None:
    if doc.get("key_id") != key.key_id:
        made = doc.get("key_id")
        raise SavedPlanError(
            f"{source} was signed with another signing key (key id {quoted(made)}; this run's "
            f"is {quoted(key.key_id)}, from {key.source}). Apply it where it was made, with "
            "that key, or make a new plan here."
        )
    if not key.verifies(canonical(doc), doc.get("checksum")):
        raise SavedPlanError(
            f"{source} was edited after it was saved: its signature does not match its content "
            "(the signing key is the one it was made with). A saved plan cannot be changed; "
            "make a new plan."
        )


def verify(saved: SavedPlan, *, base_url: str, now: datetime, source: str) -> None:
    """Refuse (before any request) a plan for another Codat, an expired one, or one whose
    requests are not what its actions show."""
    if saved.base_url != base_url:
        raise SavedPlanError(
            f"{source} was made against {quoted(saved.base_url)}, and this run talks to "
            f"{quoted(base_url)}. Apply it where it was made (CODAT_BASE_URL), or make a new plan."
        )
    expires = saved.expires_at
    expires = expires if expires.tzinfo else expires.replace(tzinfo=UTC)
    if now >= expires:
        raise SavedPlanError(
            f"{source} expired at {expires.astimezone(UTC):%Y-%m-%d %H:%M} UTC (it was made at "
            f"{text(saved.plan.observed_at or '?')}). Make a new plan (reconcile plan PATH... "
            "--out FILE; --max-age sets how long it stays valid), review it, and apply that."
        )
    from reconcile.plans.requests import edited_actions  # apply --plan's, not show's

    edited = edited_actions(saved.plan)
    if edited:
        listed = "; ".join(text(e) for e in edited[:5])
        raise SavedPlanError(
            f"{source} was edited: what it would send is not what its actions show ({listed}). "
            "Nothing was changed; make a new plan."
        )


def check_account(saved: SavedPlan, account: str, source: str) -> None:
    """Refuse a plan made for another Codat account than this run's key belongs to."""
    if saved.account != account:
        raise SavedPlanError(
            f"{source} was made for the Codat account {quoted(saved.account)}, and this run's "
            f"API key belongs to the account {quoted(account)}. Apply it with a key of "
            f"{quoted(saved.account)}, or make a new plan for {quoted(account)}."
        )


@functools.cache
def plan_schema() -> dict[str, Any]:
    """schemas/plan.schema.json, from the installed package or the source checkout."""
    packaged = resources.files("reconcile") / "schemas" / SCHEMA_NAME
    if packaged.is_file():
        loaded: dict[str, Any] = json.loads(packaged.read_text(encoding="utf-8"))
        return loaded
    source = Path(__file__).resolve().parents[3] / "schemas" / SCHEMA_NAME
    loaded = json.loads(source.read_text(encoding="utf-8"))
    return loaded


@functools.cache
def _fast_validator() -> Any:
    """jsonschema-rs over the same schema: decides the happy path (about a second for a plan
    of 10,000 customers, where jsonschema takes minutes); jsonschema words the problems."""
    import jsonschema_rs

    return jsonschema_rs.validator_for(plan_schema())


def structure_problems(doc: object) -> list[str]:
    """What makes `doc` not a plan document of this format (empty: it is one)."""
    if _fast_validator().is_valid(doc):
        return []
    import jsonschema  # only to word the problems of an invalid plan: a valid one never pays

    validator = jsonschema.Draft202012Validator(plan_schema())
    found = sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.absolute_path)))
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '(top level)'}: {text(e.message)}" for e in found
    ]


def looks_like_plan(content: bytes) -> bool:
    """Whether content is unmistakably meant as a plan: a JSON object naming `format_version`
    or the saved-plan marker (a customers file is YAML and names neither)."""
    start = content.lstrip()[:1]
    return start == b"{" and (b'"format_version"' in content or b'"saved_plan"' in content)


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return found


def _check_tree(doc: Any, source: str) -> None:
    """No string that is not valid Unicode (lone surrogates; checked in C by encoding the whole
    document once), no nesting deeper than a plan's (a walk over containers only)."""
    try:
        json.dumps(doc, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        why = "a string holds a lone surrogate"
        raise SavedPlanError(f"{source}: not a plan file ({why})") from None
    stack: list[tuple[Any, int]] = [(doc, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise SavedPlanError(f"{source}: not a plan file (nested deeper than {MAX_DEPTH})")
        values = node.values() if isinstance(node, dict) else node
        stack.extend((v, depth + 1) for v in values if isinstance(v, dict | list))
