"""Every option more than one command takes, declared once: the commands only pick them.

`--sandbox`/`--env`/`--timeout`/`--allow-base-url`/`--requests-per-minute` become one
`where: Where`; the planner's
flags one `options: PlanOptions`. Options whose words differ per command (`--format`'s choices,
`--link-urls`' warning) are made by one function each, with the command's help.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from reconcile.runs.connect import DEFAULT_SANDBOX_DB, DEFAULT_TIMEOUT, Where

REQUESTS_PER_MINUTE_ENV = "RECONCILE_REQUESTS_PER_MINUTE"

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]

paths_argument = click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))


def flag_option(name: str, help: str) -> Decorator:
    """An on/off option (`--verbose`, `--detailed-exitcode`), off by default."""
    return click.option(name, is_flag=True, help=help)


def file_option(*names: str, help: str) -> Decorator:
    """An option naming one file (never a directory), e.g. `--out` or `--json-out`."""
    return click.option(*names, type=click.Path(dir_okay=False, path_type=Path), help=help)


def paths_option(*names: str, help: str) -> Decorator:
    """A repeatable option naming customers files or folders (`PATH`), e.g. `--base`."""
    return click.option(
        *names, multiple=True, type=click.Path(path_type=Path), metavar="PATH", help=help
    )


full_plan_hint_option = click.option(
    "--full-plan-hint",
    metavar="TEXT",
    help="markdown: where readers find the whole plan when the comment leaves customers out "
    "(e.g. 'the saved plan, in this run's artifacts').",
)

MARKDOWN_HELP = "markdown: a pull-request (or issue) comment, at most 65,000 characters."
format_choices = ("text", "json", "markdown")


def format_option(*choices: str, help: str = MARKDOWN_HELP) -> Decorator:
    """`--format` (into `fmt`), text by default; `choices` default to text, json, markdown."""
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(list(choices or format_choices)),
        default="text",
        show_default=True,
        help=help,
    )


def link_urls_option(help: str) -> Decorator:
    """`--link-urls`: show the Link URLs of customers awaiting authorization (left out by
    default: anyone who opens one can authorize that company; printed on a terminal only,
    `reconcile.cli.link_urls`)."""
    return flag_option("--link-urls", help)


def link_url_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """`--link-urls` and `--link-urls-out`, as `link_urls: bool` and `link_urls_out: Path |
    None` (apply and converge)."""
    command = file_option(
        "--link-urls-out",
        help="Write the customers awaiting authorization with their Link URLs and company ids "
        "to FILE (JSON, mode 0600), for the operator to send.",
    )(command)
    return link_urls_option(
        "Show Link URLs and company ids on standard output, which must be a terminal. "
        "Anyone who opens one can authorize that company: never post them to a pull request, "
        "an issue or a CI log."
    )(command)


NOTIFY_HELP = (
    "The notifications file (the deployment's): tell the partner's app and the team what "
    "changed since the last run. Its state is kept in --state-dir (keep it between CI runs)."
)


def notify_option(help: str = NOTIFY_HELP) -> Decorator:
    """`--notify FILE` (into `notify_file`): the deployment's notifications file."""
    return click.option(
        "--notify", "notify_file", type=click.Path(path_type=Path), metavar="FILE", help=help
    )


def state_dir_option(help: str) -> Decorator:
    return click.option(
        "--state-dir",
        default=".reconcile",
        show_default=True,
        type=click.Path(path_type=Path),
        help=help,
    )


def notify_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """`--notify FILE` and `--state-dir` of a CI run (converge, audit)."""
    command = state_dir_option(
        "Where --notify remembers what it told (so the next run repeats none)."
    )(command)
    return notify_option()(command)


def parallelism_option(help: str) -> Decorator:
    return click.option(
        "--parallelism",
        type=click.IntRange(1, 50),
        default=10,
        show_default=True,
        help=help,
    )


def limit_option(
    name: str,
    number: type[click.FloatRange] | type[click.IntRange],
    metavar: str,
    help: str,
    **settings: Any,
) -> Decorator:
    """A limit on talking to Codat, 0 for none (`--timeout`, `--requests-per-minute`)."""
    return click.option(name, type=number(min=0), metavar=metavar, help=help, **settings)


def target_option(help: str) -> Decorator:
    return click.option("--target", "targets", multiple=True, metavar="UID", help=help)


def sandbox_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Adds --sandbox/--sandbox-db/--env/--timeout/--allow-base-url/--requests-per-minute and
    hands the command one `where: Where`."""
    from reconcile.cli.trust_checks import allow_base_url_option, allowed_base_urls

    @functools.wraps(fn)
    def wrapper(
        *args: Any,
        sandbox: bool,
        sandbox_db: Path | None,
        env: str | None,
        timeout: float,
        allow_base_urls: tuple[str, ...],
        requests_per_minute: int | None,
        **kwargs: Any,
    ) -> Any:
        where = Where(
            sandbox or sandbox_db is not None,
            sandbox_db,
            env,
            timeout or None,
            allowed_base_urls(allow_base_urls),
            requests_per_minute,
        )
        return fn(*args, where=where, **kwargs)

    return _decorated(
        wrapper,
        flag_option(
            "--sandbox",
            f"Use the embedded sandbox instead of Codat (state in {DEFAULT_SANDBOX_DB}).",
        ),
        file_option(
            "--sandbox-db",
            help="Use the embedded sandbox with its state in FILE (implies --sandbox).",
        ),
        click.option(
            "--env",
            metavar="NAME",
            help="The environment (Codat account) of the file to use; required when the file"
            " declares environments.",
        ),
        limit_option(
            "--timeout",
            click.FloatRange,
            "SECONDS",
            "Give up talking to Codat after this long in all (every request and retry), "
            "however slowly it answers; 0: no deadline.",
            default=DEFAULT_TIMEOUT,
            show_default=True,
        ),
        limit_option(
            "--requests-per-minute",
            click.IntRange,
            "N",
            "Start at most N requests to Codat in any minute, retries included (default: "
            "Codat's documented limit, 1,000 a minute per IP; none to a loopback "
            "sandbox; 0: no pacing). Lower it when other clients share the IP. Also "
            f"{REQUESTS_PER_MINUTE_ENV}.",
            envvar=REQUESTS_PER_MINUTE_ENV,
        ),
        allow_base_url_option,
    )


def _decorated(fn: Callable[..., Any], *options: Decorator) -> Callable[..., Any]:
    """`fn` with `options`, in the order `--help` lists them (as if stacked above it)."""
    for option in reversed(options):
        fn = option(fn)
    return fn


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
        # A leaf module: the planner itself is imported later (`plan`: while Codat answers).
        from reconcile.plan_options import PlanOptions

        options = PlanOptions(
            allow_delete=allow_delete,
            allow_empty=allow_empty,
            max_destroy=max_destroy,
            targets=frozenset(targets),
        )
        return fn(*args, options=options, **kwargs)

    return _decorated(
        wrapper,
        target_option("Only plan these customers (repeatable)."),
        click.option(
            "--max-destroy",
            type=click.IntRange(min=0),
            default=None,
            help="Allow up to N unlinks/deletes beyond the safety threshold.",
        ),
        flag_option("--allow-empty", "Allow a file with no customers to offboard everything."),
        flag_option("--allow-delete", "Allow deleting companies marked state: deleted."),
    )


def _duration_seconds(ctx: click.Context, param: click.Parameter, value: str) -> float:
    from reconcile.durations import parse_duration

    try:
        return parse_duration(value).total_seconds()
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def watch_reading_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Adds the watch's --config-sweep and --request-budget and hands the command one
    `reading: Reading` (how often every expense config is read; the day's request budget)."""
    from reconcile.runs.watch import Reading

    @functools.wraps(fn)
    def wrapper(*args: Any, config_sweep: float, request_budget: str, **kwargs: Any) -> Any:
        from reconcile.watch.budget import BudgetSetting

        try:
            budget = BudgetSetting.parse(request_budget)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="'--request-budget'") from None
        return fn(*args, reading=Reading(config_sweep, budget), **kwargs)

    wrapper = click.option(
        "--request-budget",
        default="10%",
        show_default=True,
        metavar="SHARE%|REQUESTS",
        help="The requests a day the watch aims to stay within: a share of Codat's client limit "
        "(the greater of 1,000 and 100 per active connected company) or a number. Past it, the "
        "config sweep slows; webhooks and listing changes are still read at once.",
    )(wrapper)
    return click.option(
        "--config-sweep",
        default="1d",
        show_default=True,
        callback=_duration_seconds,
        metavar="DURATION",
        help="Read every configured customer's expense config once this often, a slice at each "
        "resync (config drift shows in no listing). Resyncs read only the listing and the "
        "companies whose listing changed.",
    )(wrapper)
