"""Saved plans on the command line: `plan --out FILE` writes one, `apply --plan FILE` runs one.

Thin: the document, its signature, reader and staleness are `reconcile.plans.file`; this module
reads and writes files, asks Codat, prints, and ends the command with a clear message when a plan
must not run.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click

from reconcile.cli.common import (
    EXIT_CHANGES,
    EXIT_ERROR,
    EXIT_OK,
    IN_PROCESS_SANDBOX_URL,
    Where,
    fail,
    load_desired,
    open_client,
    run,
)
from reconcile.cli.private_files import write_private

if TYPE_CHECKING:
    from reconcile.codat import CodatClient
    from reconcile.model import Company, DesiredState, Environment
    from reconcile.planner import PlanOptions
    from reconcile.plans import Plan
    from reconcile.plans.file import SavedPlan, SigningKey

RunPlan = Callable[["Plan", "CodatClient"], Awaitable[int]]


def base_url_of(where: Where, env: Environment | None = None) -> str:
    """The normalised base URL this run talks to (the environment's, when it names one)."""
    from reconcile.cli.credentials import base_url_from_env
    from reconcile.codat import ConfigError
    from reconcile.codat.client import check_base_url

    if where.sandbox:
        return IN_PROCESS_SANDBOX_URL
    try:
        return check_base_url((env.base_url if env else None) or base_url_from_env())
    except ConfigError as exc:
        fail(str(exc))


def the_signing_key(*, create: bool) -> SigningKey:
    from reconcile.plans.file import SavedPlanError, signing_key

    try:
        key, note = signing_key(create=create)
    except SavedPlanError as exc:
        fail(str(exc))
    if note:
        click.echo(note, err=True)
    return key


# ---------------------------------------------------------------------- plan --out


async def save_plan(
    client: CodatClient,
    plan: Plan,
    desired: DesiredState,
    out: Path,
    where: Where,
    max_age: timedelta | None = None,
) -> None:
    """Record what the plan saw of every company it acts on, sign, and write `out`."""
    from reconcile import __version__
    from reconcile.plans import fingerprint
    from reconcile.plans.file import (
        DEFAULT_MAX_AGE,
        SavedPlanError,
        build,
        configured,
        desired_record,
        dumps,
        snapshot,
        touched,
    )
    from reconcile.plans.file.live import read_companies, read_configs

    if plan.unsafe:
        from reconcile.escape import text

        fail(f"plan refused: {text(plan.unsafe)}; nothing was saved to {out}")
    key = the_signing_key(create=True)
    env = desired.environments.get(desired.environment or "")
    base_url = base_url_of(where, env)
    before = client.requests_sent
    account = (await client.get_profile()).name
    ids, with_config = touched(plan), configured(plan)
    by_id: dict[str, Company] = {}
    if ids:
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
    configs = await read_configs(client, with_config)
    seen = {
        cid: snapshot(by_id[cid], configs.get(cid), with_config=cid in with_config) for cid in ids
    }
    sent = client.requests_sent - before
    click.echo(
        f"Recorded the account and what the plan saw of {len(ids)} companies "
        f"({sent} request{'s' if sent != 1 else ''})",
        err=True,
    )
    files = [(name, _read_bytes(Path(name))) for name in desired.files]
    try:
        doc = build(
            plan,
            key=key,
            account=account,
            base_url=base_url,
            tool_version=__version__,
            desired=desired_record(files, desired, [c.uid for c in plan.changes]),
            seen=seen,
            now=client.server_time or datetime.now(UTC),
            max_age=max_age or DEFAULT_MAX_AGE,
            environment=env,
        )
    except SavedPlanError as exc:
        fail(str(exc))
    write_private(out, dumps(doc))
    click.echo(
        f"Saved the plan to {out} (valid until {doc['expires_at']}). To perform exactly these "
        f"actions, run: reconcile apply --plan {out}",
        err=True,
    )


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        fail(f"cannot read {path}: {exc.strerror or exc}")


# ---------------------------------------------------------------------- apply --plan FILE


def is_plan_file(path: Path) -> bool:
    """Content unmistakably meant as a plan (never the name): a JSON object naming
    `format_version` or `saved_plan` (anywhere: `jq -S` moves them past the changes). Such a
    file is read as a plan (and refused as one if it is not a valid one), never planned as
    YAML; a customers file is YAML and names neither."""
    try:
        if not path.is_file():
            return False
        with path.open("rb") as handle:
            head = handle.read(4096)
            if head.lstrip()[:1] != b"{":
                return False  # YAML: `apply FILE` never imports the saved-plan reader
            from reconcile.plans.file import MAX_PLAN_BYTES, looks_like_plan

            return looks_like_plan(head + handle.read(MAX_PLAN_BYTES))
    except OSError:
        return False


def load_saved(path: Path, key: SigningKey | None) -> SavedPlan:
    from reconcile.plans.file import SavedPlanError, parse, read_capped

    try:
        return parse(read_capped(path), str(path), key)
    except SavedPlanError as exc:
        fail(str(exc))


def apply_saved(
    path: Path,
    files: Sequence[Path],
    where: Where,
    options: PlanOptions,
    run_plan: RunPlan,
    *,
    detailed_exitcode: bool = False,
    fmt: str = "text",
) -> NoReturn:
    """`apply --plan FILE [FILES...]`: exactly the plan's actions, once every check passed."""
    from reconcile.escape import text
    from reconcile.planner import PlanOptions
    from reconcile.plans.file import SavedPlanError, verify

    if options != PlanOptions():
        fail(
            "--target, --max-destroy, --allow-empty and --allow-delete decide what a plan "
            f"holds; they cannot change the saved plan {path}. Make a new plan with them."
        )
    saved = load_saved(path, the_signing_key(create=False))
    _environment_of(saved, where, path)
    # Read as plan reads them (a directory: its *.yaml files): the trusted environment, then
    # compared with what the plan acts on.
    desired = load_desired(files, where) if files else None
    env = _trusted_environment(saved, desired, path)
    try:
        verify(saved, base_url=base_url_of(where, env), now=datetime.now(UTC), source=str(path))
        if desired is not None:
            _check_files(saved, desired, str(path))
    except SavedPlanError as exc:
        fail(str(exc))
    plan = saved.plan
    if plan.unsafe:
        fail(f"{path}: the plan was refused as a whole ({text(plan.unsafe)}); nothing was changed")
    refusals = EXIT_CHANGES if detailed_exitcode and plan.refused else EXIT_OK
    if not plan.has_changes:  # nothing to send: no need to ask Codat anything
        click.echo(f"{path}: no changes. Nothing to apply.", err=True)
        _print_outcome(plan, refusals, "no_changes", fmt)
        raise SystemExit(refusals)

    from reconcile.model import DesiredState as State

    # The environment of the customers files (which the plan agrees with): its key, base URL
    # and account; never the plan's own record of them.
    reach = None
    if env is not None:
        reach = State(saved.plan.owner, (), environments={env.name: env}, environment=env.name)

    async def go() -> int:
        async with open_client(where, desired=reach) as client:
            await _check_account(client, saved, path)
            fresh = await _check_fresh(client, saved, path, fmt)
            if fresh is None:
                _print_outcome(plan, refusals, "already_applied", fmt)
                return refusals
            fresh_plan, held = fresh
            click.echo(f"Applying the saved plan {path} (owner {text(plan.owner)})", err=True)
            code = await run_plan(fresh_plan, client)
            if held:
                click.echo(
                    f"{path}: {held} action(s) of customers changed behind the plan were not "
                    "applied (listed above): run plan for them.",
                    err=True,
                )
            return EXIT_ERROR if held and code == EXIT_OK else code

    raise SystemExit(run(go()))


def _environment_of(saved: SavedPlan, where: Where, path: Path) -> Environment | None:
    """The environment the plan was made for, when this run names the same one; exit 1
    naming both otherwise (a plan for test is never applied to prod, nor without --env)."""
    from reconcile.escape import quoted

    env = saved.environment
    if env is None and where.env is None:
        return None
    if env is None:
        fail(
            f"{path} was made from files without environments; this run names --env"
            f" {quoted(where.env or '')}. Apply it without --env, or make a plan with --env."
        )
    if where.env != env.name:
        this = f"environment {quoted(where.env)}" if where.env else "no --env"
        fail(
            f"{path} is a plan for environment {quoted(env.name)} (the Codat account"
            f" {quoted(env.account)}), and this run has {this}. Apply it with --env"
            f" {env.name}, or make a plan for the environment you mean."
        )
    return env


def _trusted_environment(
    saved: SavedPlan, desired: DesiredState | None, path: Path
) -> Environment | None:
    """The environment this run sends its key to: the customers files' (never the plan's),
    which the plan's record must equal field by field; exit 1 before any request otherwise."""
    from reconcile.escape import quoted, text

    recorded = saved.environment
    if recorded is None:
        return None
    if desired is None:
        fail(
            f"{path} is a plan for environment {quoted(recorded.name)}: give the customers files "
            f"too (reconcile apply --plan {path} PATH... --env {recorded.name}). An "
            "environment's account, base_url and api_key_env are taken from them, never from "
            "a plan; nothing was sent to Codat."
        )
    trusted = desired.environments[recorded.name]  # load_desired checked --env names it
    files = ", ".join(map(text, desired.files))
    differ = [
        f
        for f in ("account", "base_url", "api_key_env")
        if getattr(trusted, f) != getattr(recorded, f)
    ]
    if differ:
        fail(
            f"{path} records environment {quoted(recorded.name)} with another "
            f"{', '.join(differ)} than the customers files ({files}): the "
            "plan is refused and nothing was sent to Codat. Where a key goes is taken from the "
            "files only; make a new plan from them, review it, and apply that."
        )
    return trusted


def _check_files(saved: SavedPlan, desired: DesiredState, source: str) -> None:
    """Refuse when a customer entry the plan acts on, or a file-level setting, differs now."""
    from reconcile.escape import text
    from reconcile.plans.file import SavedPlanError, customer_digest, settings_digest

    record = saved.desired
    by_uid = {c.uid: c for c in desired.customers}
    changed = [
        uid
        for uid, digest in record["customers"].items()
        if customer_digest(by_uid.get(uid)) != digest
    ]
    what = [f"customers {', '.join(text(u) for u in changed)}"] if changed else []
    if settings_digest(desired) != record["settings"]:
        what.insert(0, "the file-level settings (owner, defaults, policy)")
    if what:
        raise SavedPlanError(
            f"{source} is stale: the files changed after the plan was made, in "
            f"{' and '.join(what)}. "
            "Make a new plan from these files, review it, and apply that."
        )


async def _check_account(client: CodatClient, saved: SavedPlan, path: Path) -> None:
    from reconcile.plans.file import SavedPlanError, check_account

    try:
        check_account(saved, (await client.get_profile()).name, str(path))
    except SavedPlanError as exc:
        fail(str(exc))


async def _check_fresh(
    client: CodatClient, saved: SavedPlan, path: Path, fmt: str
) -> tuple[Plan, int] | None:
    """Read again what the plan acts on and judge it (`reconcile.plans.file.staleness`): the plan
    to run (dated by this read) and how many actions it holds back, None when it was applied
    already; exit 1 when none landed and something changed behind it.

    Partly applied (another apply made some actions, or an apply was stopped): the landed
    actions count as done and the remaining ones of customers whose state is what the plan saw
    run; those of a customer changed behind the plan are held and named (exit 1 at the end)."""
    from reconcile.escape import text
    from reconcile.plans.file import configured, touched
    from reconcile.plans.file.live import read_companies, read_configs
    from reconcile.plans.file.staleness import Live, describe_remaining, judge, resumed

    plan = saved.plan
    companies, gone = await read_companies(client, plan.owner, touched(plan))
    read_at = (client.server_time or datetime.now(UTC)) - timedelta(seconds=1)
    configs = await read_configs(client, configured(plan), gone)
    live = Live(tuple(companies), frozenset(gone), configs)
    verdict = judge(saved, live)
    if not verdict.remaining:
        click.echo(f"{path}: already applied: nothing to do.", err=fmt == "json")
        return None
    if verdict.landed:
        click.echo(
            f"{path}: partly applied: {len(verdict.landed)} of {verdict.total} actions already "
            "landed (another apply made them, or an apply stopped before the end): counted as "
            f"done; {len(verdict.runnable)} remaining action(s) of customers as the plan saw "
            "them are applied.",
            err=True,
        )
        if verdict.held:
            lines = "\n".join(f"  {line}" for line in describe_remaining(verdict.held))
            why = "\n".join(f"  {line}" for line in verdict.changed)
            click.echo(
                f"Error: {path}: {len(verdict.held)} remaining action(s) not applied: their "
                f"customers changed behind the plan since it was made:\n{why}\nNot applied:\n"
                f"{lines}\nMake a new plan for them (reconcile plan PATH... --out FILE), review "
                "it, and apply that.",
                err=True,
            )
            if not verdict.runnable:
                raise SystemExit(EXIT_ERROR)
        rest = resumed(plan, verdict, live)
        return replace(rest, observed_at=read_at.isoformat()), len(verdict.held)
    if verdict.changed:
        lines = "\n".join(f"  {line}" for line in verdict.changed)
        click.echo(
            f"Error: the saved plan {path} is stale: changed behind the plan since it was made "
            f"({text(plan.observed_at or 'time unknown')}):\n{lines}\n"
            "Nothing was changed. Make a new plan (reconcile plan PATH... --out FILE), review "
            "it, and apply that.",
            err=True,
        )
        raise SystemExit(EXIT_ERROR)
    return replace(plan, observed_at=read_at.isoformat()), 0


def _print_outcome(plan: Plan, code: int, status: str, fmt: str) -> None:
    """Nothing was sent: the plan's refusals (text), or the result document (json)."""
    import json

    from reconcile.executor import ApplyResult
    from reconcile.render.apply import refusal_lines, result_document

    if fmt == "json":
        click.echo(json.dumps(result_document(plan, ApplyResult(), code, status), indent=2))
        return
    lines = refusal_lines(plan)
    if lines:
        click.echo("\n".join(lines))
