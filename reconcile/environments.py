"""Environments: one file, several Codat accounts (test, prod), each run resolved for one.

Pure: no I/O. `for_environment(state, name)` is the desired state one environment's run plans
against: the customers that exist there, each with that environment's overrides applied. A file
without environments is used as it is, and only then.
"""

from __future__ import annotations

from dataclasses import replace

from reconcile.escape import text
from reconcile.model import Customer, DesiredState

ALL = "all"  # `plan --env all`: every environment, read-only


class EnvironmentChoiceError(ValueError):
    """The run's --env does not fit the file (missing, unknown, or given to a file without)."""


def names(state: DesiredState) -> list[str]:
    """The declared environments, in promotion order first, then by name."""
    ordered = [n for n in state.promote if n in state.environments]
    return ordered + sorted(n for n in state.environments if n not in ordered)


def check_choice(state: DesiredState, env: str | None, *, allow_all: bool = False) -> None:
    declared = names(state)
    if not declared:
        if env is not None:
            raise EnvironmentChoiceError(
                f"--env {text(env)} was given, but {_files(state)} declares no environments;"
                " drop --env, or declare them under 'environments:'"
            )
        return
    shown = ", ".join(declared)
    if env is None:
        raise EnvironmentChoiceError(
            f"{_files(state)} declares environments ({shown}): name one with --env NAME"
        )
    if env == ALL and allow_all:
        return
    if env not in state.environments:
        also = " (or 'all' to compare them)" if allow_all else ""
        raise EnvironmentChoiceError(
            f"--env {text(env)} is not declared in {_files(state)}: use one of {shown}{also}"
        )


def for_environment(state: DesiredState, env: str | None) -> DesiredState:
    """The customers of environment `env` with its overrides applied (`state` itself when the
    file declares no environments). `env` must have passed `check_choice`."""
    if env is None or not state.environments:
        return state
    return replace(
        state,
        customers=tuple(_resolve(c, env) for c in state.customers if _exists_in(c, env)),
        environment=env,
    )


def _exists_in(customer: Customer, env: str) -> bool:
    return customer.environments is None or env in customer.environments


def _resolve(customer: Customer, env: str) -> Customer:
    override = customer.overrides.get(env)
    resolved = replace(customer, **override) if override else customer  # type: ignore[arg-type]
    return replace(resolved, environments=None, overrides={})


def _files(state: DesiredState) -> str:
    return ", ".join(text(f) for f in state.files) or "the file"
