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
    files = ", ".join(desired.files) or "input"
    env = f", environment {desired.environment}" if environment and desired.environment else ""
    return f"Reading {files}: {len(desired.customers)} customers, owner {desired.owner}{env}"


def codat_line(
    companies: int, requests: int, what: str = "managed companies", account: str | None = None
) -> str:
    """`Reading Codat: N managed companies (R requests)[, account A]`."""
    named = f", account {quoted(account)}" if account is not None else ""
    return f"Reading Codat: {companies} {what} ({requests_text(requests)}){named}"
