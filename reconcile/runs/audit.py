"""The audit run: read every company once (`reconcile.facts.snapshot`), then judge it. Read-only:
the snapshot client sends nothing but GET."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING

from reconcile.runs.errors import RunError

if TYPE_CHECKING:
    from reconcile.audit import Audit, FindingKind
    from reconcile.model import DesiredState
    from reconcile.planner import PlanOptions
    from reconcile.runs.connect import Where


async def audit(
    where: Where,
    desired: DesiredState,
    options: PlanOptions,
    *,
    fail_on: frozenset[FindingKind],
    stale_after: timedelta,
    on_read: Callable[[int, int], None] | None = None,
) -> Audit:
    """The audit of `desired` against `where`; `--target` naming a customer neither the files
    nor Codat know is a `RunError`. `on_read(companies, requests)` hears what the read cost."""
    from reconcile.audit import build_audit
    from reconcile.facts.snapshot import SnapshotClient, read_for_audit
    from reconcile.runs.connect import open_client

    async with open_client(where, SnapshotClient, desired=desired) as client:
        assert isinstance(client, SnapshotClient)
        read = await read_for_audit(client, desired)
    known = {c.uid for c in desired.customers} | {c.uid for c in read.companies if c.uid}
    unknown = options.targets - known
    if unknown:
        raise RunError(f"--target names unknown customer(s): {', '.join(sorted(unknown))}")
    if on_read is not None:
        on_read(len(read.companies), read.requests)
    return build_audit(desired, read, options=options, fail_on=fail_on, stale_after=stale_after)
