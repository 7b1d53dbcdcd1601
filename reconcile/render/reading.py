"""The lines a run's reading is told with on stderr: the files, then Codat."""

from __future__ import annotations

from typing import TYPE_CHECKING

from reconcile.escape import quoted

if TYPE_CHECKING:
    from reconcile.model import DesiredState


def requests_text(requests: int) -> str:
    return f"{requests} request{'s' if requests != 1 else ''}"


def files_line(desired: DesiredState, *, environment: bool = True) -> str:
    """`Reading FILES: N customers, owner O[, environment E]`."""
    env = desired.environment if environment else None
    return files_summary(desired.files, len(desired.customers), desired.owner, env)


def files_summary(
    files: tuple[str, ...], customers: int, owner: str, environment: str | None = None
) -> str:
    """`files_line` of files not built into a model yet (`reconcile.desired.Checked`)."""
    shown = ", ".join(files) or "input"
    env = f", environment {environment}" if environment else ""
    return f"Reading {shown}: {customers} customers, owner {owner}{env}"


def codat_line(
    companies: int, requests: int, what: str = "managed companies", account: str | None = None
) -> str:
    """`Reading Codat: N managed companies (R requests)[, account A]`."""
    named = f", account {quoted(account)}" if account is not None else ""
    return f"Reading Codat: {companies} {what} ({requests_text(requests)}){named}"
