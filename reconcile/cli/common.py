"""What every command shares: where Codat is, the planner's flags, loading, exit codes."""

from __future__ import annotations

import dataclasses
import functools
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from reconcile.cli.exits import EXIT_CHANGES as EXIT_CHANGES  # re-exported for the commands
from reconcile.cli.exits import EXIT_ERROR as EXIT_ERROR
from reconcile.cli.exits import EXIT_OK as EXIT_OK
from reconcile.cli.exits import fail as fail

if TYPE_CHECKING:
    from reconcile.codat import CodatClient
    from reconcile.model import DesiredState
    from reconcile.planner import PlanOptions
    from reconcile.plans import Plan

T = TypeVar("T")
DEFAULT_SANDBOX_DB = Path(".reconcile") / "sandbox.db"
# The in-process sandbox pretends to live here, so linkUrls point at `sandbox serve`'s default.
IN_PROCESS_SANDBOX_URL = "http://127.0.0.1:8765"

# Seconds a command may spend talking to Codat in all (`--timeout`): a plan of the largest
# supported fleet takes minutes; a server that drips bytes must not hold a run forever.
DEFAULT_TIMEOUT = 3600.0


paths_argument = click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))

format_option = click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "markdown"]),
    default="text",
    show_default=True,
    help="markdown: a pull-request (or issue) comment, at most 65,000 characters.",
)
full_plan_hint_option = click.option(
    "--full-plan-hint",
    metavar="TEXT",
    help="markdown: where readers find the whole plan when the comment leaves customers out "
    "(e.g. 'the saved plan, in this run's artifacts').",
)


@dataclass(frozen=True)
class Where:
    """Which Codat a command talks to: the real one (from the environment) or the sandbox."""

    sandbox: bool
    sandbox_db: Path | None
    env: str | None = None  # --env: which of the file's environments (Codat accounts)
    # The command's overall deadline in seconds (`--timeout`); None: none.
    timeout: float | None = DEFAULT_TIMEOUT
    # --allow-base-url and RECONCILE_ALLOW_BASE_URL: hosts beyond Codat's and loopback an
    # environment's base_url may send its key to (the command line's word, never a file's).
    allowed_base_urls: frozenset[str] = frozenset()


def sandbox_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Adds --sandbox/--sandbox-db/--env/--timeout/--allow-base-url and hands the command one
    `where: Where`."""
    from reconcile.cli.trust_checks import allow_base_url_option, allowed_base_urls

    @functools.wraps(fn)
    def wrapper(
        *args: Any,
        sandbox: bool,
        sandbox_db: Path | None,
        env: str | None,
        timeout: float,
        allow_base_urls: tuple[str, ...],
        **kwargs: Any,
    ) -> Any:
        where = Where(
            sandbox or sandbox_db is not None,
            sandbox_db,
            env,
            timeout or None,
            allowed_base_urls(allow_base_urls),
        )
        return fn(*args, where=where, **kwargs)

    wrapper = allow_base_url_option(wrapper)

    wrapper = click.option(
        "--timeout",
        type=click.FloatRange(min=0),
        default=DEFAULT_TIMEOUT,
        show_default=True,
        metavar="SECONDS",
        help="Give up talking to Codat after this long in all (every request and retry), "
        "however slowly it answers; 0: no deadline.",
    )(wrapper)
    wrapper = click.option(
        "--env",
        metavar="NAME",
        help="The environment (Codat account) of the file to use; required when the file"
        " declares environments.",
    )(wrapper)
    wrapper = click.option(
        "--sandbox-db",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Use the embedded sandbox with its state in FILE (implies --sandbox).",
    )(wrapper)
    return click.option(
        "--sandbox",
        is_flag=True,
        help=f"Use the embedded sandbox instead of Codat (state in {DEFAULT_SANDBOX_DB}).",
    )(wrapper)


def plan_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Adds the planner's flags and hands the command one `options: PlanOptions`."""

    @functools.wraps(fn)
    def wrapper(
        *args: Any,
        targets: tuple[str, ...],
        max_destroy: int | None,
        allow_empty: bool,
        allow_delete: bool,
        **kwargs: Any,
    ) -> Any:
        from reconcile.planner import PlanOptions  # imported by the commands that plan, only

        options = PlanOptions(
            allow_delete=allow_delete,
            allow_empty=allow_empty,
            max_destroy=max_destroy,
            targets=frozenset(targets),
        )
        return fn(*args, options=options, **kwargs)

    for option in (
        click.option(
            "--allow-delete", is_flag=True, help="Allow deleting companies marked state: deleted."
        ),
        click.option(
            "--allow-empty",
            is_flag=True,
            help="Allow a file with no customers to offboard everything.",
        ),
        click.option(
            "--max-destroy",
            type=click.IntRange(min=0),
            default=None,
            help="Allow up to N unlinks/deletes beyond the safety threshold.",
        ),
        click.option(
            "--target",
            "targets",
            multiple=True,
            metavar="UID",
            help="Only plan these customers (repeatable).",
        ),
    ):
        wrapper = option(wrapper)
    return wrapper


def load_desired(
    paths: Sequence[Path],
    where: Where | None = None,
    *,
    allow_all: bool = False,
    resolve: bool = True,
    base: Sequence[Path] = (),
) -> DesiredState:
    """The desired state of the run: the files, resolved for `--env` when they declare
    environments (with `allow_all`, `--env all` keeps every environment, unresolved; without
    `resolve`, as `validate` reads them, the files as they are). Resolved, their environments
    are trusted ones (`reconcile.cli.trust_checks`): the `base` files' when given (a pull
    request's plan), else only ones that send keys to Codat, loopback or an allowed URL."""
    from reconcile.cli.trust_checks import check_trusted
    from reconcile.desired import InvalidInput, load
    from reconcile.environments import ALL, EnvironmentChoiceError, check_choice, for_environment

    try:
        state = load(list(paths))
        if not resolve:
            return state
        env = where.env if where is not None else None
        check_choice(state, env, allow_all=allow_all)
        allowed = where.allowed_base_urls if where is not None else frozenset()
        sandbox = where.sandbox if where is not None else False
        state = check_trusted(state, env, allowed, base, sandbox=sandbox)
        return state if env == ALL else for_environment(state, env)
    except EnvironmentChoiceError as exc:
        fail(str(exc))
    except InvalidInput as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        count = len(exc.problems)
        click.echo(
            f"{count} problem{'s' if count != 1 else ''} found; nothing was sent to Codat.",
            err=True,
        )
        sys.exit(EXIT_ERROR)


async def plan_against(
    client: CodatClient, desired: DesiredState, options: PlanOptions, *, allow_unsafe: bool = False
) -> Plan:
    """Read live Codat and plan. A plan refused as a whole (`Plan.unsafe`) ends the command
    with the reason, unless the caller shows it itself (`allow_unsafe`, e.g. `--format json`)."""
    from reconcile.live import read_live
    from reconcile.planner import make_plan

    files = ", ".join(desired.files) or "input"
    env = f", environment {desired.environment}" if desired.environment else ""
    click.echo(
        f"Reading {files}: {len(desired.customers)} customers, owner {desired.owner}{env}",
        err=True,
    )
    live = await read_live(client, desired, options.targets)
    managed = sum(1 for c in live.companies if c.owner == desired.owner)
    requests = f"{live.requests} request{'s' if live.requests != 1 else ''}"
    click.echo(f"Reading Codat: {managed} managed companies ({requests})", err=True)
    known = {c.uid for c in desired.customers} | {c.uid for c in live.companies if c.uid}
    unknown = options.targets - known
    if unknown:
        fail(f"--target names unknown customer(s): {', '.join(sorted(unknown))}")
    plan = make_plan(desired, live, options)
    if plan.unsafe and not allow_unsafe:
        fail(f"plan refused: {plan.unsafe}")
    return plan


# ---------------------------------------------------------------------- plumbing


def open_client(
    where: Where,
    client_class: type[CodatClient] | None = None,
    *,
    desired: DesiredState | None = None,
) -> CodatClient:
    """A client for real Codat (CODAT_API_KEY, CODAT_BASE_URL) or the in-process sandbox.

    `client_class` (a CodatClient subclass, e.g. the read-only one) replaces the default. When
    `desired` was resolved for an environment, the key and base URL are that environment's, and
    the client confirms the key's account (`GET /profile`) before sending anything else."""
    from reconcile.codat import ConfigError

    try:
        return client_for(where, client_class, desired=desired)
    except ConfigError as exc:
        fail(str(exc))


def client_for(
    where: Where,
    client_class: type[CodatClient] | None = None,
    *,
    desired: DesiredState | None = None,
) -> CodatClient:
    """`open_client`, raising `ConfigError` instead of ending the command (`plan --env all`
    reports one environment's error in its row and goes on)."""
    import httpx

    from reconcile.codat import ClientSettings, CodatClient, ConfigError

    cls = client_class or CodatClient
    env = desired.environments.get(desired.environment or "") if desired is not None else None

    if where.sandbox:
        from reconcile.sandbox.app import create_app
        from reconcile.sandbox.options import ACCOUNT_NAME_ENV, SandboxOptions

        db = where.sandbox_db or DEFAULT_SANDBOX_DB
        db.parent.mkdir(parents=True, exist_ok=True)
        import os

        try:  # no daily quota unless RECONCILE_SANDBOX_DAILY_QUOTA asks for one
            options = SandboxOptions.in_process(db, os.environ)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        if env is not None and not os.environ.get(ACCOUNT_NAME_ENV):
            # The embedded sandbox stands in for whichever account the run names.
            options = dataclasses.replace(options, account_name=env.account)
        app = create_app(options)
        return cls(
            "sandbox",
            ClientSettings(base_url=IN_PROCESS_SANDBOX_URL, deadline=where.timeout),
            transport=httpx.ASGITransport(app=app),
        )
    from reconcile.cli.credentials import api_key_from_env, base_url_from_env

    if env is None:
        settings = ClientSettings(base_url=base_url_from_env(), deadline=where.timeout)
        return cls(api_key_from_env(), settings)
    settings = ClientSettings(
        base_url=env.base_url or base_url_from_env(),
        deadline=where.timeout,
        expected_account=env.account,
        account_label=f"environment {env.name} (in the file)",
    )
    return cls(api_key_from_env(env.api_key_env, env.name), settings)


def run(coro: Awaitable[T]) -> T:
    import asyncio  # only the commands that talk to Codat pay for it

    from reconcile.codat import CodatError

    async def wrapped() -> T:
        return await coro

    try:
        return asyncio.run(wrapped())
    except CodatError as exc:
        fail(str(exc))
