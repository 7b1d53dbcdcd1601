"""A customer's health, as plain data: what Codat's data status and the config's references
said (`HealthFacts`, read by `reconcile.facts.health`), and what that means (`Health`, made by
`reconcile.health.assess`).

Healthy; Degraded with reasons (a data type Sync for Expenses needs never fetched, failing, or
older than its schedule allows; an Active connection error; a config naming a bank account,
supplier or customer that no longer exists); At risk (no successful sync for longer than a
threshold well before Codat's 90 days, with the day Codat will deauthorize the connection).
Each reason says who must act, in the audit's words (`reconcile.audit.model.Who`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from reconcile.model.who import Who


class HealthState(StrEnum):
    """Least to most urgent."""

    HEALTHY = "healthy"
    DEGRADED = "degraded"
    AT_RISK = "at_risk"


class ReasonKind(StrEnum):
    NO_RECENT_SYNC = "no_recent_sync"  # at risk: Codat will deauthorize the connection
    NEVER_FETCHED = "data_never_fetched"
    FAILING = "data_failing"
    STALE = "data_stale"
    CONNECTION_ERROR = "connection_error"
    MISSING_REFERENCE = "missing_reference"


@dataclass(frozen=True, slots=True)
class DataTypeStatus:
    """One entry of `GET /companies/{companyId}/dataStatus`."""

    data_type: str
    status: str  # Codat's currentStatus: Complete, FetchError, ...
    last_success: datetime | None  # None: never fetched


@dataclass(frozen=True, slots=True)
class MissingReference:
    """A config's reference that the company's accounting data no longer has."""

    field: str  # bankAccount, supplier, customer
    id: str


@dataclass(frozen=True, slots=True)
class HealthFacts:
    """What one health read of one company found. `data` None: not read (no Linked accounting
    connection, or the read failed: `error` says why)."""

    company_id: str
    data: tuple[DataTypeStatus, ...] | None = None
    missing: tuple[MissingReference, ...] = ()
    error: str | None = None
    # Codat's pull history (`GET .../data/history`), read only for a company whose refresh is
    # otherwise due: when the newest pull operation was requested (None: never), or why the
    # history could not be read.
    last_refresh: datetime | None = None
    history_read: bool = False
    history_error: str | None = None
    quota_held: bool = False  # the day's quota left covers no refresh of it: the next pass


@dataclass(frozen=True, slots=True)
class Reason:
    kind: ReasonKind
    detail: str
    who: Who
    data_types: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Health:
    """One customer's health at one read."""

    uid: str
    name: str
    company_id: str
    state: HealthState
    reasons: tuple[Reason, ...] = ()
    last_sync: datetime | None = None  # the newest successful sync of any needed data type
    deauthorized_on: date | None = None  # when Codat will deauthorize it, if nothing syncs
    refresh_queued: bool = False  # policy.auto lists refresh_data: converge and the watch do it
    # Why a refresh that is otherwise due is not queued now (one in progress, or one requested
    # within the period: "refreshed at ..., next allowed at ...").
    refresh_held: str | None = None
    last_refresh: datetime | None = None  # the newest pull operation Codat recorded, if read

    @property
    def who(self) -> tuple[Who, ...]:
        """Everyone who must act, in the order of the reasons (no repeats)."""
        return tuple(dict.fromkeys(r.who for r in self.reasons))
