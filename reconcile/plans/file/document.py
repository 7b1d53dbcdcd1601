"""The saved-plan document (`plan --out`): what it holds, and how it is built and signed.

A saved plan is the `--format json` document plus what apply needs to run it later, exactly:
where it was made (`base_url`, and the Codat `account` that `GET /profile` named), when
(`observed_at`, Codat's clock) and until when it may run (`expires_at`), from which files
(`desired`: the files' digests, and one digest per customer entry it acts on plus the file-level
settings), by which tool (`tool_version`), and what it saw of every company it acts on (`seen`,
the expense config included where it sets one). Its `checksum` is an HMAC-SHA256 under the
signing key (`reconcile.plans.file.signing`, never the API key) over every other field,
`observed_at` included. Nothing here talks to Codat.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from reconcile.escape import json_text
from reconcile.model import Company, Customer, DesiredState, Environment, ExpenseConfig
from reconcile.plans import Kind, Plan
from reconcile.plans.file.errors import SavedPlanError
from reconcile.plans.file.signing import SigningKey
from reconcile.render.plan_json import FORMAT_VERSION, plan_to_dict

MARKER = "saved_plan"
DEFAULT_MAX_AGE = timedelta(days=7)

Snapshot = dict[str, Any]


@dataclass(frozen=True)
class SavedPlan:
    """A saved plan read back: the document as written and the Plan it describes."""

    doc: Mapping[str, Any]
    plan: Plan

    @property
    def base_url(self) -> str:
        return str(self.doc["base_url"])

    @property
    def account(self) -> str:
        return str(self.doc["account"])

    @property
    def environment(self) -> Environment | None:
        """The file's environment the plan was made for (None: a file without environments)."""
        env = self.doc.get("environment")
        if not isinstance(env, Mapping):
            return None
        return Environment(
            str(env["name"]), str(env["account"]), str(env["api_key_env"]), env.get("base_url")
        )

    @property
    def seen(self) -> Mapping[str, Snapshot]:
        seen: Mapping[str, Snapshot] = self.doc["seen"]
        return seen

    @property
    def tool_version(self) -> str:
        return str(self.doc["tool_version"])

    @property
    def expires_at(self) -> datetime:
        return datetime.fromisoformat(str(self.doc["expires_at"]))

    @property
    def desired(self) -> Mapping[str, Any]:
        desired: Mapping[str, Any] = self.doc["desired"]
        return desired


# ---------------------------------------------------------------------- digests


def canonical(doc: Mapping[str, Any]) -> bytes:
    """The bytes the signature covers: every field but the signature itself."""
    covered = {k: v for k, v in doc.items() if k != "checksum"}
    return json.dumps(covered, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sha256(content: bytes) -> str:
    return "sha256:" + hashlib.sha256(content).hexdigest()


def _digest_of(value: object) -> str:
    return sha256(json.dumps(value, sort_keys=True, separators=(",", ":"), default=_plain).encode())


def customer_digest(customer: Customer | None) -> str | None:
    """What an entry means (defaults applied; comments, order and positions do not count);
    None for a uid no file names."""
    if customer is None:
        return None
    fields = {f.name: getattr(customer, f.name) for f in dataclasses.fields(customer) if f.compare}
    fields["tags"] = dict(sorted(customer.tags.items()))
    config = customer.expense_config
    fields["expense_config"] = config.to_wire() if config is not None else None
    return _digest_of(fields)


def settings_digest(desired: DesiredState) -> str:
    """The file-level settings (the owner, and whatever else a file sets for all customers)."""
    skip = {"customers", "files"}
    if not desired.moved:  # a file without `moved:` digests as it did before the key existed
        skip.add("moved")
    settings = {
        f.name: getattr(desired, f.name) for f in dataclasses.fields(desired) if f.name not in skip
    }
    return _digest_of(settings)


def _plain(value: object) -> object:
    """A value as plain JSON, the same in every process: sets sorted (their iteration order
    varies with the interpreter's hash seed), dataclasses as their fields."""
    if isinstance(value, set | frozenset):
        return sorted(value, key=repr)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    return repr(value)


def desired_record(
    files: Sequence[tuple[str, bytes]], desired: DesiredState, uids: Sequence[str]
) -> dict[str, Any]:
    """The files a plan was made from: their contents' digests (for the record), the settings'
    digest, and the digest of each customer entry the plan acts on (what apply compares)."""
    by_uid = {c.uid: c for c in desired.customers}
    return {
        "files": [{"path": name, "sha256": sha256(content)} for name, content in files],
        "settings": settings_digest(desired),
        "customers": {uid: customer_digest(by_uid.get(uid)) for uid in sorted(set(uids))},
    }


# ---------------------------------------------------------------------- what a plan saw


def snapshot(
    company: Company, config: ExpenseConfig | None = None, *, with_config: bool
) -> Snapshot:
    """What a plan saw of a company, field by field (the `seen` entries)."""
    seen: Snapshot = {
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
    if with_config:
        seen["expense_config"] = config.to_wire() if config is not None else None
    return seen


def touched(plan: Plan) -> list[str]:
    """The live companies the plan acts on (companies it creates have no id yet)."""
    return sorted({a.company_id for a in plan.actions if a.company_id is not None})


def configured(plan: Plan) -> list[str]:
    """The live companies whose expense config the plan sets."""
    return sorted(
        {a.company_id for a in plan.actions if a.kind is Kind.SET_EXPENSE_CONFIG and a.company_id}
    )


# ---------------------------------------------------------------------- writing


def build(
    plan: Plan,
    *,
    key: SigningKey,
    account: str,
    base_url: str,
    tool_version: str,
    desired: Mapping[str, Any],
    seen: Mapping[str, Snapshot],
    now: datetime,
    max_age: timedelta = DEFAULT_MAX_AGE,
    environment: Environment | None = None,
) -> dict[str, Any]:
    """The saved-plan document of `plan`, signed with `key`.

    `seen` must hold the snapshot of every company the plan acts on, as the plan saw it."""
    if plan.unsafe:
        raise SavedPlanError(f"the plan is refused as a whole ({plan.unsafe}); nothing is saved")
    missing = [cid for cid in touched(plan) if cid not in seen]
    if missing:
        raise SavedPlanError(f"internal: no snapshot of companies {', '.join(missing)}")
    body = plan_to_dict(plan)
    plan_fields = {k: v for k, v in body.items() if k not in ("format_version", "checksum")}
    observed_at = plan_fields.pop("observed_at") or now.isoformat()
    doc: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        MARKER: True,
        "tool_version": tool_version,
        "base_url": base_url,
        "account": account,
        "environment": (
            {
                "name": environment.name,
                "account": environment.account,
                "api_key_env": environment.api_key_env,
                "base_url": environment.base_url,
            }
            if environment is not None
            else None
        ),
        "key_id": key.key_id,
        "desired": dict(desired),
        **plan_fields,
        "seen": {cid: seen[cid] for cid in touched(plan)},
        "observed_at": observed_at,
        "expires_at": (datetime.fromisoformat(observed_at) + max_age).isoformat(),
    }
    doc["checksum"] = key.mac(canonical(doc))
    return doc


def dumps(doc: Mapping[str, Any]) -> str:
    """Compact JSON: a plan for 10,000 new customers is about 10 MB so, 17 MB indented, and
    the reader's cap is 16 MB (`jq . PLANFILE` or `reconcile show` for people). Characters a
    terminal or a diff viewer would act on are escaped."""
    return json_text(json.dumps(doc, separators=(",", ":"), ensure_ascii=False)) + "\n"
