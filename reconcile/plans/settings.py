"""A change of the account's own settings (an environment's `settings:`), as the planner makes
it (`reconcile.planner.settings`) and `plan` and `apply` show and send it."""

from __future__ import annotations

from dataclasses import dataclass

from reconcile.plans import Request


@dataclass(frozen=True)
class SettingsChange:
    """One change of the account's settings: what, the differences for people, the writes."""

    subject: str
    sign: str  # "+" create, "~" change
    lines: tuple[str, ...]
    requests: tuple[Request, ...]
