"""`plan --base`: what a pull request changed, so its plan check blocks only on its own refusals.

A refusal about a customer whose entry differs between the base files (the default branch) and
the pull request's files is new: the pull request caused it or touched it, and it blocks the
check. Any other refusal predates the pull request: it is shown, and it does not block. Entries
are compared as the loader resolved them (defaults applied, positions ignored), so a change to
`defaults:` changes every customer it reaches, and a different owner changes them all.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from reconcile.cli.exits import EXIT_ERROR
from reconcile.cli.options import paths_option

if TYPE_CHECKING:
    from reconcile.desired import InvalidInput
    from reconcile.model import DesiredState
    from reconcile.planner import PlanOptions
    from reconcile.plans import Plan
    from reconcile.render.markdown import Review

base_option = paths_option(
    "--base",
    help="The same customers files as they are on the default branch (repeatable; read "
    "offline). A refusal about a customer whose entry differs from the base is new and makes "
    "the run exit 1; one that predates the change is shown and does not. Expense configs are "
    "read only for the customers the change touches and those that became Linked (the plan "
    "says how many it left to audit and converge). With "
    "--format markdown the comment marks each and names the allowances in effect. Each "
    "environment's account, base_url and api_key_env come from the base files only: files "
    "whose environments differ are refused before any request.",
)


def changed_since(base: Sequence[Path], desired: DesiredState) -> frozenset[str]:
    """The uids a change touches, against the base files (see `changed_uids`), both resolved
    for the run's environment (a base without that environment: every customer is new)."""
    return changed_uids(resolved_base(base, desired), desired)


def existed_before(base: Sequence[Path], desired: DesiredState) -> frozenset[str]:
    """The uids the base files list for the run's owner and environment: their companies were
    made by an earlier apply, so one that is missing now was deleted behind the tool."""
    before = resolved_base(base, desired)
    if before is None or before.owner != desired.owner:
        return frozenset()
    return frozenset(c.uid for c in before.customers if c.state == "present")


def had_config_before(base: Sequence[Path], desired: DesiredState) -> frozenset[str]:
    """The uids whose base entry has an expenseConfig."""
    before = resolved_base(base, desired)
    if before is None or before.owner != desired.owner:
        return frozenset()
    return frozenset(c.uid for c in before.customers if c.expense_config is not None)


def resolved_base(base: Sequence[Path], desired: DesiredState) -> DesiredState | None:
    """The base files resolved for the run's environment (None: no usable base)."""
    from reconcile.environments import for_environment

    before = load_base(base)
    if before is not None and desired.environment is not None:
        declared = desired.environment in before.environments
        before = for_environment(before, desired.environment) if declared else None
    return before


def the_review(options: PlanOptions, changed: frozenset[str] | None) -> Review:
    """What the comment says beyond the plan: nothing without --base; with it, the allowances
    in effect and which refusals are new."""
    from reconcile.render.markdown import Review

    return Review() if changed is None else Review(allowances(options), changed)


def block_on_new_refusals(plan: Plan, changed: frozenset[str]) -> None:
    """Say how many refusals are new and how many predate the change; exit 1 on a new one."""
    if not plan.refused:
        return
    new, old = blocking(plan, changed)
    click.echo(
        f"{new} refusal{'' if new == 1 else 's'} about customers this change touches, "
        f"{old} that predate{'s' if old == 1 else ''} it (shown, not blocking).",
        err=True,
    )
    if new:
        click.echo(
            "Error: the plan refuses changes this pull request asks for: fix the entries "
            "named above, or get a reviewed allowance (docs/gitops.md).",
            err=True,
        )
        sys.exit(EXIT_ERROR)


def changed_uids(base: DesiredState | None, head: DesiredState) -> frozenset[str]:
    """The uids whose entry is added, removed or different between `base` and `head`; every uid
    of both when there is no base or the owner differs."""
    theirs = {c.uid: c for c in base.customers} if base is not None else {}
    ours = {c.uid: c for c in head.customers}
    if base is None or base.owner != head.owner:
        return frozenset(theirs) | frozenset(ours)
    return frozenset(uid for uid in theirs.keys() | ours.keys() if theirs.get(uid) != ours.get(uid))


def load_base(paths: Sequence[Path]) -> DesiredState | None:
    """`_load_base`, once a run (what it says on stderr is said once)."""
    return _load_base(tuple(paths))


@functools.cache
def _load_base(paths: tuple[Path, ...]) -> DesiredState | None:
    """The base files, or None when none of them exists (the first pull request of a
    repository, or a new directory of customers) or they do not load (the pull request may be
    the fix): then every customer counts as changed, and stderr says why."""
    from reconcile.desired import InvalidInput

    present = [p for p in paths if p.exists()]
    if not present:
        click.echo("--base: no base files yet; every refusal counts as new.", err=True)
        return None
    loaded = read_base(tuple(present))
    if isinstance(loaded, InvalidInput):
        exc = loaded
        count = len(exc.problems)
        click.echo(
            f"--base: the base files do not load ({count} problem{'s' if count != 1 else ''}, "
            f"first: {exc.problems[0]}); every refusal counts as new.",
            err=True,
        )
        return None
    return loaded


@functools.cache
def read_base(present: tuple[Path, ...]) -> DesiredState | InvalidInput:
    """The base files loaded once a run (the trusted environments and the review both read
    them), or why they do not load."""
    from reconcile.desired import InvalidInput, load

    try:
        return load(present)
    except InvalidInput as exc:
        return exc


def allowances(options: PlanOptions) -> list[str]:
    """The safety allowances a plan was made with, in words, for the comment."""
    out = []
    if options.allow_delete:
        out.append("--allow-delete: companies marked `state: deleted` are deleted")
    if options.max_destroy is not None:
        out.append(
            f"--max-destroy {options.max_destroy}: up to {options.max_destroy} unlinks and "
            "deletes, beyond the safety guard's limit"
        )
    if options.allow_empty:
        out.append("--allow-empty: a file with no customers offboards every company")
    return out


def blocking(plan: Plan, changed: frozenset[str]) -> tuple[int, int]:
    """(refusals about changed customers, refusals that predate the change)."""
    new = sum(1 for r in plan.refused if r.uid in changed)
    return new, len(plan.refused) - new
