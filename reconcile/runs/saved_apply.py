"""`apply --plan FILE`: the checks a saved plan passes before anything is sent, and the fresh
read it is judged against (`reconcile.plans.file.staleness`). Returns data; prints nothing.

A partly applied plan (another apply made some actions, or an apply stopped before the end)
finishes what is unchanged: the landed actions count as done, the remaining ones of customers
whose state is what the plan saw run, and those of a customer changed behind the plan are held
(`Fresh.held`; the run then exits 1)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from reconcile.runs.errors import RunError

if TYPE_CHECKING:
    from reconcile.codat import CodatClient
    from reconcile.model import DesiredState, Environment
    from reconcile.planner import PlanOptions
    from reconcile.plans import Plan
    from reconcile.plans.file import SavedPlan, SigningKey
    from reconcile.plans.file.settings_staleness import SettingsVerdict
    from reconcile.runs.connect import Where

RunPlan = Callable[["Plan", "CodatClient"], Awaitable[int]]
EXIT_OK, EXIT_ERROR = 0, 1


@dataclass(frozen=True)
class Fresh:
    """What a saved plan runs after the fresh read: `plan` (dated by this read: the remaining
    actions when it was partly applied) and, when some actions landed already, how many of how
    many, how many remain to run, and the remaining ones held back (described) with what
    changed behind the plan for their customers."""

    plan: Plan
    landed: int = 0
    total: int = 0
    runnable: int = 0
    held: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    # The account settings' changes (`plan.settings` holds those to make): the subjects of
    # those the account holds already, and of those changed behind the plan (not made) with
    # what changed.
    settings_landed: tuple[str, ...] = ()
    settings_held: tuple[str, ...] = ()
    settings_changed: tuple[str, ...] = ()

    @property
    def partly(self) -> bool:
        return self.landed > 0

    @property
    def anything_held(self) -> bool:
        return bool(self.held or self.settings_held)

    @property
    def nothing_to_run(self) -> bool:
        """Every change that remains is held: nothing is sent."""
        return not self.plan.settings and (
            (self.partly and not self.runnable) or not self.plan.has_changes
        )


@dataclass(frozen=True)
class Checked:
    """A saved plan that passed every check made without Codat: its trusted environment."""

    saved: SavedPlan
    env: Environment | None

    @property
    def plan(self) -> Plan:
        return self.saved.plan


def check_options(options: PlanOptions, path: Path) -> None:
    from reconcile.planner import PlanOptions

    if options != PlanOptions():
        raise RunError(
            "--target, --max-destroy, --allow-empty and --allow-delete decide what a plan "
            f"holds; they cannot change the saved plan {path}. Make a new plan with them."
        )


def load_saved(path: Path, key: SigningKey | None) -> SavedPlan:
    from reconcile.plans.file import SavedPlanError, parse, read_capped

    try:
        return parse(read_capped(path), str(path), key)
    except SavedPlanError as exc:
        raise RunError(str(exc)) from None


def check_saved(
    saved: SavedPlan, desired: DesiredState | None, where: Where, path: Path
) -> Checked:
    """The environment, its trust, the signature's age and base URL, and the files: all
    before any request."""
    from reconcile.escape import text
    from reconcile.plans.file import SavedPlanError, verify
    from reconcile.runs.connect import base_url_of

    env = trusted_environment(saved, desired, path)
    try:
        verify(saved, base_url=base_url_of(where, env), now=datetime.now(UTC), source=str(path))
        if desired is not None:
            check_files(saved, desired, str(path))
    except SavedPlanError as exc:
        raise RunError(str(exc)) from None
    if saved.plan.unsafe:
        raise RunError(
            f"{path}: the plan was refused as a whole ({text(saved.plan.unsafe)}); "
            "nothing was changed"
        )
    return Checked(saved, env)


async def apply_checked(
    checked: Checked,
    where: Where,
    path: Path,
    run_plan: RunPlan,
    *,
    on_fresh: Callable[[Fresh], None] | None = None,
    on_start: Callable[[Plan], None] | None = None,
    on_settings: Callable[[int], None] | None = None,
) -> int | None:
    """Confirm the account, read again what the plan acts on (`on_fresh` hears the judgement),
    make the account settings' changes that remain (`on_settings` hears how many) and run the
    remaining actions with `run_plan` (its exit code; 1 when changes were held, or when all
    that remained was held and nothing ran); None when it was applied already."""
    from reconcile.model import DesiredState as State
    from reconcile.runs.connect import open_client

    plan, env = checked.plan, checked.env
    # The environment of the customers files (which the plan agrees with): its key, base URL
    # and account; never the plan's own record of them.
    reach = None
    if env is not None:
        reach = State(plan.owner, (), environments={env.name: env}, environment=env.name)
    async with open_client(where, desired=reach) as client:
        await check_account(client, checked.saved, path)
        fresh = await check_fresh(client, checked.saved, path)
        if fresh is None:
            return None
        if on_fresh is not None:
            on_fresh(fresh)
        if fresh.nothing_to_run:
            return EXIT_ERROR  # all that remains is held: nothing is sent
        if on_start is not None:
            on_start(fresh.plan)
        if fresh.plan.settings:  # first, as `apply PATHS` makes them: new links fetch by them
            from reconcile.executor.settings import apply_settings

            await apply_settings(client, fresh.plan.settings)
            if on_settings is not None:
                on_settings(len(fresh.plan.settings))
        code = EXIT_OK
        if fresh.plan.has_changes and not (fresh.partly and not fresh.runnable):
            code = await run_plan(fresh.plan, client)
        return EXIT_ERROR if fresh.anything_held and code == EXIT_OK else code


def environment_of(saved: SavedPlan, where: Where, path: Path) -> Environment | None:
    """The environment the plan was made for, when this run names the same one; exit 1
    naming both otherwise (a plan for test is never applied to prod, nor without --env)."""
    from reconcile.escape import quoted

    env = saved.environment
    if env is None and where.env is None:
        return None
    if env is None:
        raise RunError(
            f"{path} was made from files without environments; this run names --env"
            f" {quoted(where.env or '')}. Apply it without --env, or make a plan with --env."
        )
    if where.env != env.name:
        this = f"environment {quoted(where.env)}" if where.env else "no --env"
        raise RunError(
            f"{path} is a plan for environment {quoted(env.name)} (the Codat account"
            f" {quoted(env.account)}), and this run has {this}. Apply it with --env"
            f" {env.name}, or make a plan for the environment you mean."
        )
    return env


def trusted_environment(
    saved: SavedPlan, desired: DesiredState | None, path: Path
) -> Environment | None:
    """The environment this run sends its key to: the customers files' (never the plan's),
    which the plan's record must equal field by field; exit 1 before any request otherwise."""
    from reconcile.escape import quoted, text

    recorded = saved.environment
    if recorded is None:
        return None
    if desired is None:
        raise RunError(
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
        raise RunError(
            f"{path} records environment {quoted(recorded.name)} with another "
            f"{', '.join(differ)} than the customers files ({files}): the "
            "plan is refused and nothing was sent to Codat. Where a key goes is taken from the "
            "files only; make a new plan from them, review it, and apply that."
        )
    return trusted


def check_files(saved: SavedPlan, desired: DesiredState, source: str) -> None:
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


async def check_account(client: CodatClient, saved: SavedPlan, path: Path) -> None:
    from reconcile.facts.account import account_name
    from reconcile.plans.file import SavedPlanError
    from reconcile.plans.file import check_account as check

    try:
        check(saved, await account_name(client), str(path))
    except SavedPlanError as exc:
        raise RunError(str(exc)) from None


async def check_fresh(client: CodatClient, saved: SavedPlan, path: Path) -> Fresh | None:
    """Read again what the plan acts on and judge it: what to run (dated by this read), None
    when it was applied already; a `RunError` when none of the customers' actions landed and
    something changed behind them. Partly applied, the remaining actions of unchanged customers
    run, the others are held (`Fresh.held`). Each account settings' change is judged on its
    own: landed, changed behind the plan (held), or made."""
    from reconcile.escape import text
    from reconcile.facts.saved import read_for_staleness
    from reconcile.plans.file.staleness import describe_remaining, judge, resumed

    plan = saved.plan
    settings = await _judge_settings(client, plan)
    live, read_at = await read_for_staleness(client, plan)
    verdict = judge(saved, live)
    if not verdict.remaining and not settings.remaining:
        return None
    said = {
        "settings_landed": tuple(c.subject for c in settings.landed),
        "settings_held": tuple(c.subject for c, _ in settings.held),
        "settings_changed": tuple(line for _, lines in settings.held for line in lines),
    }
    if verdict.landed or not verdict.remaining:
        rest = resumed(plan, verdict, live)
        return Fresh(
            replace(rest, observed_at=read_at, settings=settings.runnable),
            landed=len(verdict.landed),
            total=verdict.total,
            runnable=len(verdict.runnable),
            held=tuple(describe_remaining(verdict.held)) if verdict.held else (),
            changed=tuple(verdict.changed) if verdict.held else (),
            settings_landed=said["settings_landed"],
            settings_held=said["settings_held"],
            settings_changed=said["settings_changed"],
        )
    if verdict.changed:
        lines = "\n".join(f"  {line}" for line in verdict.changed)
        raise RunError(
            f"the saved plan {path} is stale: changed behind the plan since it was made "
            f"({text(plan.observed_at or 'time unknown')}):\n{lines}\n"
            "Nothing was changed. Make a new plan (reconcile plan PATH... --out FILE), review "
            "it, and apply that."
        )
    return Fresh(
        replace(plan, observed_at=read_at, settings=settings.runnable),
        settings_landed=said["settings_landed"],
        settings_held=said["settings_held"],
        settings_changed=said["settings_changed"],
    )


async def _judge_settings(client: CodatClient, plan: Plan) -> SettingsVerdict:
    """The plan's account settings' changes judged against the account now (one request per
    kind of change; none without settings changes)."""
    from reconcile.plans.file.settings_staleness import SettingsVerdict, judge_settings

    if not plan.settings:
        return SettingsVerdict()
    from reconcile.facts.settings import read_settings_again

    sync, consumers = await read_settings_again(client, plan.settings)
    return judge_settings(plan.settings, sync, consumers)
