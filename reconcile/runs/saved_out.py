"""`plan --out`: the signed saved plan, recorded from what the plan run read.

The plan's own read of Codat (`PlanRun.live`) is what the plan saw of each company it acts on,
and the account it read (`plan` always reads it), so recording it costs no request beyond the
plan's. A run that did not read the account asks for it here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reconcile.runs.errors import RunError

if TYPE_CHECKING:
    from reconcile.codat import CodatClient
    from reconcile.plans.file import SigningKey
    from reconcile.runs.connect import Where
    from reconcile.runs.plan import PlanRun


@dataclass(frozen=True)
class SavedRecord:
    """The saved plan to write, with what recording it cost."""

    document: dict[str, Any]
    companies: int  # companies the plan acts on, recorded as it saw them
    requests: int  # requests beyond the plan's own read (the account, when it did not read it)
    key_note: str | None = None  # the signing key was made just now: where it lives


def signing_key(*, create: bool) -> tuple[SigningKey, str | None]:
    """The key that signs saved plans, and a note when one was made just now."""
    from reconcile.plans.file import SavedPlanError
    from reconcile.plans.file import signing_key as the_key

    try:
        return the_key(create=create)
    except SavedPlanError as exc:
        raise RunError(str(exc)) from None


async def record(
    client: CodatClient, run: PlanRun, where: Where, valid_for: timedelta
) -> SavedRecord:
    """Sign what the plan saw of every company it acts on, from the run's own read."""
    from reconcile import __version__
    from reconcile.facts.account import account_name
    from reconcile.plans.file import (
        DEFAULT_MAX_AGE,
        SavedPlanError,
        build,
        configured,
        desired_record,
        snapshot,
        touched,
    )
    from reconcile.runs.connect import base_url_of

    plan, desired, live = run.plan, run.desired, run.live
    key, note = signing_key(create=True)
    env = desired.environments.get(desired.environment or "")
    base_url = base_url_of(where, env)
    before = client.requests_sent
    account = live.account if live.account is not None else await account_name(client)
    ids, with_config = touched(plan), set(configured(plan))
    by_id = {c.id: c for c in live.companies}
    unread = [cid for cid in ids if cid not in by_id] + [
        cid for cid in with_config if cid not in live.expense_configs
    ]
    if unread:  # the planner acts only on what it read: a plan of another read
        raise RunError(
            f"the plan acts on companies it did not read ({', '.join(unread)}); nothing was "
            "saved. Run the plan again."
        )
    seen = {
        cid: snapshot(by_id[cid], live.expense_configs.get(cid), with_config=cid in with_config)
        for cid in ids
    }
    files = [(name, _read_bytes(Path(name))) for name in desired.files]
    try:
        document = build(
            plan,
            key=key,
            account=account,
            base_url=base_url,
            tool_version=__version__,
            desired=desired_record(files, desired, [c.uid for c in plan.changes]),
            seen=seen,
            now=client.server_time or datetime.now(UTC),
            max_age=valid_for or DEFAULT_MAX_AGE,
            environment=env,
        )
    except SavedPlanError as exc:
        raise RunError(str(exc)) from None
    return SavedRecord(document, len(ids), client.requests_sent - before, note)


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise RunError(f"cannot read {path}: {exc.strerror or exc}") from None
