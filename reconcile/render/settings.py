"""The account settings' changes as text, shown with the plan (`plan`, `apply`)."""

from __future__ import annotations

from collections.abc import Sequence

from reconcile.escape import text
from reconcile.plans.settings import SettingsChange
from reconcile.render.style import Style


def render_settings(changes: Sequence[SettingsChange], env: str, style: Style) -> str:
    if not changes:
        return ""
    lines = [style(f"Account settings of environment {text(env)}:", "bold")]
    for change in changes:
        colour = "green" if change.sign == "+" else "red" if change.destructive else "yellow"
        moves = "  (destructive: see above)" if change.destructive else ""
        lines.append(style(f"  {change.sign} {text(change.subject)}{moves}", colour))
        lines.extend(f"      {text(line)}" for line in change.lines)
    return "\n".join(lines) + "\n"
