"""Saved plans on the command line: `plan --out FILE` writes one, `apply FILE` runs one.

The document and its checks are `reconcile.saved` (pure); this module reads and writes files,
asks Codat, and ends the command with a clear message when a plan must not run.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click

from reconcile.cli.common import (
    EXIT_ERROR,
    EXIT_OK,
    IN_PROCESS_SANDBOX_URL,
    Where,
    fail,
    load_desired,
    open_client,
    run,
)

if TYPE_CHECKING:
    from reconcile.codat import CodatClient
    from reconcile.model import Company, DesiredState
    from reconcile.plan import Plan
    from reconcile.planner import PlanOptions
    from reconcile.saved import SavedPlan

RunPlan = Callable[["Plan", "CodatClient"], Awaitable[int]]
PLAN_FILE_MODE = 0o600
# A plan file is read whole; anything this large is not one.
MAX_PLAN_BYTES = 512 * 1024 * 1024


def credentials(where: Where) -> tuple[str, str]:
    """The API key and the normalised base URL this run talks to (the key stays in memory)."""
    from reconcile.cli.credentials import api_key_from_env, base_url_from_env
    from reconcile.codat import ConfigError
    from reconcile.codat.client import check_base_url

    if where.sandbox:
        return "sandbox", IN_PROCESS_SANDBOX_URL
    try:
        key = api_key_from_env()
        if not key:
            raise ConfigError("no Codat API key: set CODAT_API_KEY (or use --sandbox)")
        return key, check_base_url(base_url_from_env())
    except ConfigError as exc:
        fail(str(exc))


async def read_companies(
    client: CodatClient, owner: str, ids: Sequence[str]
) -> tuple[list[Company], list[str]]:
    """The owner's companies (one list read by the owner tag) plus those of `ids` the list
    does not hold (adopted, not tagged yet), and the ids Codat no longer has (404)."""
    from reconcile.codat import CodatHTTPError
    from reconcile.live import owner_filter

    companies = list(await client.list_companies(tags=owner_filter(owner)))
    listed = {c.id for c in companies}
    gone: list[str] = []
    for cid in ids:
        if cid in listed:
            continue
        try:
            companies.append(await client.get_company(cid))
        except CodatHTTPError as exc:
            if exc.status != 404:
                raise
            gone.append(cid)
    return companies, gone


# ---------------------------------------------------------------------- plan --out


async def save_plan(
    client: CodatClient, plan: Plan, desired: DesiredState, out: Path, where: Where
) -> None:
    """Record what the plan saw of every company it acts on, sign, and write `out`."""
    from reconcile import __version__
    from reconcile.plan import fingerprint
    from reconcile.saved import SavedPlanError, build, dumps, touched

    if plan.unsafe:
        fail(f"plan refused: {plan.unsafe}; nothing was saved to {out}")
    key, base_url = credentials(where)
    ids = touched(plan)
    seen: dict[str, Company] = {}
    if ids:
        before = client.requests_sent
        companies, _ = await read_companies(client, plan.owner, ids)
        by_id = {c.id: c for c in companies}
        moved = [
            cid
            for cid in ids
            if cid not in by_id or fingerprint(by_id[cid]) != plan.observed.get(cid)
        ]
        if moved:
            fail(
                f"Codat changed while the plan was being made (companies {', '.join(moved)}); "
                f"nothing was saved to {out}. Run the plan again."
            )
        seen = {cid: by_id[cid] for cid in ids}
        sent = client.requests_sent - before
        click.echo(
            f"Recorded what the plan saw of {len(ids)} companies "
            f"({sent} request{'s' if sent != 1 else ''})",
            err=True,
        )
    files = [(name, _read_bytes(Path(name))) for name in desired.files]
    try:
        doc = build(
            plan,
            api_key=key,
            base_url=base_url,
            tool_version=__version__,
            files=files,
            seen=seen,
        )
    except SavedPlanError as exc:
        fail(str(exc))
    write_private(out, dumps(doc))
    click.echo(
        f"Saved the plan to {out}. To perform exactly these actions, run: reconcile apply {out}",
        err=True,
    )


def write_private(path: Path, content: str) -> None:
    """Write atomically (a temporary file beside it, then rename), readable by the owner only."""
    directory = path.parent if str(path.parent) else Path(".")
    try:
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        fail(f"cannot write {path}: {exc.strerror or exc}")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            os.fchmod(handle.fileno(), PLAN_FILE_MODE)
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except OSError as exc:
        Path(temp).unlink(missing_ok=True)
        fail(f"cannot write {path}: {exc.strerror or exc}")


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        fail(f"cannot read {path}: {exc.strerror or exc}")


# ---------------------------------------------------------------------- apply PLANFILE


def is_plan_file(path: Path) -> bool:
    """A plan is recognised by its content (a JSON object with `format_version`), never by its
    name; `load_saved` then refuses one without the saved-plan marker."""
    from reconcile.saved import looks_like_plan

    try:
        if not path.is_file() or path.stat().st_size > MAX_PLAN_BYTES:
            return False
        with path.open("rb") as handle:
            if handle.read(64).lstrip()[:1] != b"{":
                return False
        return looks_like_plan(path.read_bytes())
    except OSError:
        return False


def load_saved(path: Path) -> SavedPlan:
    from reconcile.saved import SavedPlanError, parse

    try:
        return parse(_read_bytes(path), str(path))
    except SavedPlanError as exc:
        fail(str(exc))


def apply_saved(
    path: Path,
    files: Sequence[Path],
    where: Where,
    options: PlanOptions,
    run_plan: RunPlan,
) -> NoReturn:
    """`apply PLANFILE [FILES...]`: exactly the plan's actions, once every check has passed."""
    from reconcile.planner import PlanOptions
    from reconcile.saved import SavedPlanError, check_files, verify

    if options != PlanOptions():
        fail(
            "--target, --max-destroy, --allow-empty and --allow-delete decide what a plan "
            f"holds; they cannot change the saved plan {path}. Make a new plan with them."
        )
    saved = load_saved(path)
    key, base_url = credentials(where)
    try:
        verify(saved, api_key=key, base_url=base_url, source=str(path))
        if files:  # read as plan reads them (a directory: its *.yaml files), then compared
            named = load_desired(files).files
            check_files(saved, [(name, _read_bytes(Path(name))) for name in named], str(path))
    except SavedPlanError as exc:
        fail(str(exc))
    plan = saved.plan
    if plan.unsafe:
        fail(f"{path}: the plan was refused as a whole ({plan.unsafe}); nothing was changed")
    if not plan.has_changes:
        click.echo(f"{path}: no changes. Nothing to apply.", err=True)
        raise SystemExit(EXIT_OK)

    async def go() -> int:
        async with open_client(where) as client:
            fresh = await _check_fresh(client, saved, path)
            click.echo(f"Applying the saved plan {path} (owner {plan.owner})", err=True)
            return await run_plan(fresh, client)

    raise SystemExit(run(go()))


async def _check_fresh(client: CodatClient, saved: SavedPlan, path: Path) -> Plan:
    """Read again what the plan saw; refuse (nothing written) when any of it changed.

    Returns the plan to run, dated by this read: anything Codat reports as created before it
    and absent from it was gone by then (the executor's check of stale replays)."""
    from reconcile.render.escape import text
    from reconcile.saved import stale_findings, touched

    plan = saved.plan
    companies, gone = await read_companies(client, plan.owner, touched(plan))
    read_at = (client.server_time or datetime.now(UTC)) - timedelta(seconds=1)
    findings = stale_findings(saved, companies, gone)
    if findings:
        lines = "\n".join(f"  {f}" for f in findings)
        click.echo(
            f"Error: the saved plan {path} is stale: Codat changed after the plan was made "
            f"({text(plan.observed_at or 'time unknown')}):\n{lines}\n"
            "Nothing was changed. If this plan was applied already there is nothing to do; "
            "otherwise make a new plan (reconcile plan PATH... --out FILE), review it, and "
            "apply that.",
            err=True,
        )
        raise SystemExit(EXIT_ERROR)
    return replace(plan, observed_at=read_at.isoformat())
