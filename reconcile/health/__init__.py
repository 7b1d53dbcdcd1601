"""Customer health (docs/design.md §14, issue 26): the model (`model.py`) and the one place it is
computed (`assess.py`, pure). Read by `audit --health`, the watch and `/metrics`; never by `plan`
(it costs a request per company)."""

from reconcile.health.assess import (
    DEAUTHORIZE_AFTER,
    DEFAULT_AT_RISK_AFTER,
    DEFAULT_REFRESH_EVERY,
    NEEDED_DATA_TYPES,
    HealthOptions,
    assess,
    refresh_due,
    refresh_held,
)
from reconcile.health.model import Health, HealthFacts, HealthState, Reason, ReasonKind

__all__ = [
    "DEAUTHORIZE_AFTER",
    "DEFAULT_AT_RISK_AFTER",
    "DEFAULT_REFRESH_EVERY",
    "NEEDED_DATA_TYPES",
    "Health",
    "HealthFacts",
    "HealthOptions",
    "HealthState",
    "Reason",
    "ReasonKind",
    "assess",
    "refresh_due",
    "refresh_held",
]
