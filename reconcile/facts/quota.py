"""The quota budget a run's reads may spend: what Codat said remains of today's quota (the
client's `rate_limit_remaining`, from the last answer's `X-Rate-Limit-Remaining`), less a reserve
for the partner's own application, which spends from the same account's quota (docs/design.md
§11). Reads that would go beyond it wait for a later run, with a warning."""

from __future__ import annotations

from typing import Final

# Of the daily quota, the share a run's optional reads leave untouched for the partner's own app.
QUOTA_RESERVE_SHARE: Final = 0.1


def quota_budget(
    remaining: int | None, limit: int | None, reserve_share: float = QUOTA_RESERVE_SHARE
) -> int | None:
    """Requests a run may still spend today, or None when Codat said nothing (no quota to
    count down: every read is allowed)."""
    if remaining is None:
        return None
    return max(0, remaining - int((limit or remaining) * reserve_share))
