"""The live state: what Codat holds (companies, connections, configs, mapping options).

Read through `reconcile.facts`; nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from reconcile.model.expense import ExpenseConfig
from reconcile.model.platforms import Platform, platform_of
from reconcile.model.tags import OWNER_TAG, PROTECT_TAG, PROTECT_VALUE, RESERVED_TAG_PREFIX, UID_TAG


class Status(StrEnum):
    PENDING_AUTH = "PendingAuth"
    LINKED = "Linked"
    UNLINKED = "Unlinked"
    DEAUTHORIZED = "Deauthorized"


def parse_time(value: object) -> datetime | None:
    """A timestamp Codat (or a saved plan) wrote, ISO 8601 with its offset; None for anything
    else (missing, not text, unparsable, or without a timezone: such a time cannot be compared)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


# Connections that hold (or await) access: what unlink/delete acts on and the guard counts.
ACTIVE_STATUSES: frozenset[str] = frozenset({Status.LINKED.value, Status.PENDING_AUTH.value})


@dataclass(frozen=True, slots=True)
class ConnectionError_:
    """An entry of a connection's `dataConnectionErrors`."""

    status_code: str | None
    status_text: str | None
    message: str | None
    errored_on_utc: str | None
    resolved_on_utc: str | None = None
    status: str | None = None  # Active, Resolved, Unknown...

    @property
    def active(self) -> bool:
        return (self.status or "").casefold() == "active" or (
            self.status is None and self.resolved_on_utc is None
        )


@dataclass(frozen=True, slots=True)
class Connection:
    """A live data connection of a company."""

    id: str
    source_type: str  # Accounting, Expense, ...
    platform_name: str
    status: str
    link_url: str
    created: str
    integration_key: str | None = None
    errors: tuple[ConnectionError_, ...] = ()

    @property
    def active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def platform(self) -> Platform | None:
        return platform_of(self.integration_key, self.platform_name)

    @property
    def is_accounting(self) -> bool:
        return self.source_type == "Accounting"

    @property
    def is_partner_expense(self) -> bool:
        return self.source_type == "Expense"

    @property
    def label(self) -> str:
        """How a message names the connection: "accounting connection Xero", "partner expense
        connection"."""
        if self.is_partner_expense:
            return "partner expense connection"
        platform = self.platform
        name = platform.label if platform else self.platform_name or self.integration_key or "?"
        return f"{self.source_type.lower()} connection {name}"

    @property
    def nameable(self) -> bool:
        """Whether a desired-state file can name this connection: an accounting connection on a
        Sync for Expenses platform, or the partner expense connection. Any other (Sage 50
        `hbql`, banking, commerce...) is never unlinked or deleted by this tool."""
        return self.is_partner_expense or (self.is_accounting and self.platform is not None)

    @property
    def changed_on(self) -> str | None:
        """When Codat last reported a problem with this connection (its newest error's
        `erroredOnUtc`): Codat's Connection has no status-change date, so this is the best
        sign of when a Deauthorized or Unlinked connection stopped; None when it has none."""
        dates = [e.errored_on_utc for e in self.errors if e.errored_on_utc]
        return max(dates) if dates else None


@dataclass(frozen=True, slots=True)
class Company:
    """A live Codat company with its connections."""

    id: str
    name: str
    description: str | None
    tags: Mapping[str, str]
    connections: tuple[Connection, ...] = ()
    created: str | None = None

    @property
    def owner(self) -> str | None:
        return self.tags.get(OWNER_TAG)

    @property
    def uid(self) -> str | None:
        return self.tags.get(UID_TAG)

    @property
    def protected(self) -> bool:
        return self.tags.get(PROTECT_TAG) == PROTECT_VALUE

    @property
    def user_tags(self) -> dict[str, str]:
        return {k: v for k, v in self.tags.items() if not k.startswith(RESERVED_TAG_PREFIX)}


@dataclass(frozen=True, slots=True)
class Profile:
    """The Codat account (client instance) an API key belongs to: `GET /profile`."""

    name: str


@dataclass(frozen=True, slots=True)
class MappingOption:
    """One choice of a company's expense mapping options (an account, supplier or customer)."""

    id: str
    name: str


@dataclass(frozen=True, slots=True)
class MappingOptions:
    """What a company's expense config may name. Codat's mapping options list accounts (the
    bank accounts among them are the valid `bankAccount` ids); suppliers and customers are not
    listed there: each id the config would change to is read by itself (`GET .../data/suppliers/
    {id}`, `.../customers/{id}`), and those found (or already in the live config) are here.
    None: not checked."""

    bank_accounts: tuple[MappingOption, ...] = ()
    suppliers: tuple[MappingOption, ...] | None = None
    customers: tuple[MappingOption, ...] | None = None


@dataclass(frozen=True, slots=True)
class LiveState:
    """What Codat holds for one owner, plus companies named by `id:` for adoption."""

    owner: str
    companies: tuple[Company, ...]
    expense_configs: Mapping[str, ExpenseConfig | None] = field(default_factory=dict)
    requests: int = 0
    # Codat's clock when the companies were read (ISO 8601); anything Codat reports as created
    # before it and absent from the read was gone by then.
    read_at: str | None = None
    warnings: tuple[str, ...] = ()  # what could not be read (that part is left out of plans)
    # Companies outside this owner's tag that carry the reconcile.uid of a customer the plan
    # would otherwise create (any other owner tag, or none): identity is defended, not assumed.
    uid_holders: Mapping[str, tuple[Company, ...]] = field(default_factory=dict)
    # Mapping options of companies whose expense config would change.
    mapping_options: Mapping[str, MappingOptions] = field(default_factory=dict)
    # Expense configs a pull request's plan left unread: customers it does not change (their
    # drift is the audit's and converge's; `reconcile.facts.configs`).
    configs_not_read: int = 0
    # Codat's daily quota as the last read saw it (None: not said).
    rate_limit_remaining: int | None = None
    rate_limit_limit: int | None = None
    rate_limit_reset: str | None = None
    # Linked companies at risk whose data a refresh may save (company id -> why), read by the
    # health reads of converge, the watch and `audit --health`, never by `plan`.
    refresh_due: Mapping[str, str] = field(default_factory=dict)
    # Linked companies at risk whose refresh waits (company id -> why: one is in progress, or
    # was requested within policy.refreshDataEvery, as Codat's pull history says).
    refresh_held: Mapping[str, str] = field(default_factory=dict)
    # The key's account (`GET /profile`), when the run read it (`plan` does, and shows it).
    account: str | None = None
    # Companies read by id (adopted with `id:` and not in the listing; a saved plan's, read again
    # before it is applied) that Codat answered 404.
    gone: frozenset[str] = frozenset()
