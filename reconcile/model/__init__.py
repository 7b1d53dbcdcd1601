"""Plain typed data shared by every layer: platforms, desired customers, live companies.

Nothing here does I/O. Desired objects come from `reconcile.desired`, live objects from
`reconcile.live`; the planner compares the two.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Literal

OWNER_TAG = "reconcile.owner"
UID_TAG = "reconcile.uid"
# On the company of a `protect: true` customer: it survives the customer leaving the file.
PROTECT_TAG = "reconcile.protect"
PROTECT_VALUE = "true"
RESERVED_TAG_PREFIX = "reconcile."
MAX_TAGS = 10
MAX_USER_TAGS = MAX_TAGS - 2
MAX_USER_TAGS_PROTECTED = MAX_TAGS - 3
MAX_TAG_KEY = 27
MAX_TAG_VALUE = 100


# --------------------------------------------------------------------------- platforms


@dataclass(frozen=True, slots=True)
class Platform:
    """An accounting platform supported by Sync for Expenses."""

    key: str
    name: str
    aliases: tuple[str, ...]

    @property
    def label(self) -> str:
        return f"{self.name} ({self.key})"


PLATFORMS: tuple[Platform, ...] = (
    Platform("akxx", "Oracle NetSuite", ("netsuite", "oracle-netsuite")),
    Platform("pqsw", "QuickBooks Desktop", ("quickbooks-desktop", "qbd")),
    Platform("qhyg", "QuickBooks Online", ("quickbooks-online", "qbo")),
    Platform("knfz", "Sage Intacct", ("sage-intacct", "intacct")),
    Platform("gbol", "Xero", ("xero",)),
    Platform("trji", "Dynamics 365 Business Central", ("dynamics-365-business-central",)),
    Platform("fbrh", "FreeAgent", ("freeagent",)),
    Platform("rwuv", "Zoho Books", ("zoho-books",)),
)

PLATFORMS_BY_KEY: Mapping[str, Platform] = MappingProxyType({p.key: p for p in PLATFORMS})
PLATFORMS_BY_NAME: Mapping[str, Platform] = MappingProxyType(
    {p.name.casefold(): p for p in PLATFORMS}
)
PLATFORM_ALIASES: Mapping[str, Platform] = MappingProxyType(
    {alias: p for p in PLATFORMS for alias in (p.key, *p.aliases)}
)

# The partner expense integration (the operator's own application).
PARTNER_EXPENSE_KEY = "expn"
PARTNER_EXPENSE_NAME = "Partner Expense"


def resolve_platform(text: str) -> Platform | None:
    """A platform from a 4-letter key or a readable alias (case-insensitive)."""
    return PLATFORM_ALIASES.get(text.strip().casefold())


def platform_of(integration_key: str | None, platform_name: str | None) -> Platform | None:
    """Identify a live connection's platform: `integrationKey` first, `platformName` second.

    `integrationKey` is optional on Codat's wire, so the name is the fallback.
    """
    if integration_key and integration_key in PLATFORMS_BY_KEY:
        return PLATFORMS_BY_KEY[integration_key]
    if platform_name:
        return PLATFORMS_BY_NAME.get(platform_name.casefold())
    return None


# --------------------------------------------------------------------------- desired


@dataclass(frozen=True, slots=True)
class Location:
    """Where a node was written: 1-based line and column."""

    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


@dataclass(frozen=True, slots=True)
class ExpenseConfig:
    """The Sync for Expenses company configuration: ids in the accounting platform. A desired
    config may name a record instead (`supplier: {name: "Amex"}`): `names` holds (wire field,
    name) for those, whose id is "" until the planner resolves it (`resolved`)."""

    bank_account: str
    supplier: str
    customer: str
    names: tuple[tuple[str, str], ...] = ()

    def resolved(self, ids: Mapping[str, str]) -> ExpenseConfig:
        """This config with the named fields' ids filled in (wire field -> id) and no names."""
        return ExpenseConfig(
            ids.get("bankAccount", self.bank_account),
            ids.get("supplier", self.supplier),
            ids.get("customer", self.customer),
        )

    def to_wire(self) -> dict[str, dict[str, str]]:
        return {
            "bankAccount": {"id": self.bank_account},
            "supplier": {"id": self.supplier},
            "customer": {"id": self.customer},
        }


CustomerState = Literal["present", "absent", "deleted"]
# The customer fields one environment may override (model names).
OVERRIDABLE = ("accounting", "expense_config", "tags", "state", "protect")


@dataclass(frozen=True, slots=True)
class SyncWanted:
    """One data type's sync setting as the file names it (None: a field the file leaves)."""

    data_type: str
    fetch_on_first_link: bool | None = None
    sync_schedule: int | None = None  # hours


@dataclass(frozen=True, slots=True)
class ConsumerWanted:
    """The webhook consumer the watch needs: Codat's `url`, `eventTypes`, `companyTags`."""

    url: str
    event_types: tuple[str, ...]
    company_tags: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class AccountSettings:
    """An environment's account settings as code: only what is named is managed."""

    sync: tuple[SyncWanted, ...] = ()
    consumer: ConsumerWanted | None = None


@dataclass(frozen=True, slots=True)
class Environment:
    """One Codat account a file is applied to: `environments:` in the file."""

    name: str
    account: str  # the name GET /profile must answer
    api_key_env: str  # the variable holding the key (or, with _FILE, naming a file)
    base_url: str | None = None
    settings: AccountSettings | None = None  # trusted, like the rest of the environment


@dataclass(frozen=True, slots=True)
class Customer:
    """One customer as the operator wants it."""

    uid: str
    name: str
    description: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    accounting: str | None = None  # a platform key, already resolved from any alias
    expenses: bool = False
    expense_config: ExpenseConfig | None = None
    id: str | None = None  # adopt this existing company
    protect: bool = False
    unprotect: bool = False  # the file says `protect: false`: a protect tag may be removed
    # `accounting: {keep: true}`: whatever accounting connection the company has stays as it is
    # (never unlinked, deleted or replaced); `accounting` is then None.
    keep_accounting: bool = False
    state: CustomerState = "present"
    location: Location | None = field(default=None, compare=False)
    # Environments: where the customer exists (None: every declared one), and per environment
    # the fields that differ there (model field name -> value, already resolved like the rest).
    environments: frozenset[str] | None = None
    overrides: Mapping[str, Mapping[str, object]] = field(default_factory=dict)

    def ownership_tags(self, owner: str) -> dict[str, str]:
        """The full tag map the company should carry: user tags, ownership, protection."""
        tags = {**self.tags, OWNER_TAG: owner, UID_TAG: self.uid}
        if self.protect:
            tags[PROTECT_TAG] = PROTECT_VALUE
        return tags


# `policy.auto`: the additive kinds of action `converge` and `watch` may apply without another
# review (the reviewed file asked for them). Unlinks and deletes can never be listed.
AUTO_PARTNER_EXPENSE = "partner_expense_connection"
AUTO_EXPENSE_CONFIG = "expense_config"
AUTO_ACCOUNTING_RECREATE = "accounting_connection_recreate"  # one the customer deleted
AUTO_COMPANY_RESTORE = "company_restore"  # name, description or tags edited in the portal
AUTO_REFRESH_DATA = "refresh_data"  # a Linked customer at risk: refresh before Codat deauthorizes
AUTO_KINDS: tuple[str, ...] = (
    AUTO_PARTNER_EXPENSE,
    AUTO_EXPENSE_CONFIG,
    AUTO_ACCOUNTING_RECREATE,
    AUTO_COMPANY_RESTORE,
    AUTO_REFRESH_DATA,
)
DEFAULT_AUTO = frozenset({AUTO_PARTNER_EXPENSE, AUTO_EXPENSE_CONFIG})  # the names users write


@dataclass(frozen=True, slots=True)
class Policy:
    """What the file pre-approves: `auto` for converge and watch; `prune`: a customer that
    left every file is offboarded as `state: absent` would (Terraform's behaviour); false
    (default): its Linked connections stay and the plan reports it."""

    auto: frozenset[str] = DEFAULT_AUTO
    prune: bool = False


@dataclass(frozen=True, slots=True)
class Moved:
    """`moved: [{from, to}]`: the company carrying reconcile.uid=`old` is customer `new`'s (a
    renamed uid, as Terraform's moved block): it is retagged, nothing created or unlinked."""

    old: str
    new: str
    location: Location | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class DesiredState:
    """The whole desired-state input of one run."""

    owner: str
    customers: tuple[Customer, ...]
    files: tuple[str, ...] = ()
    # The Codat accounts the file declares (name -> Environment), the CI kit's promotion order,
    # and which environment these customers were resolved for (None: not resolved).
    environments: Mapping[str, Environment] = field(default_factory=dict)
    promote: tuple[str, ...] = ()
    environment: str | None = None
    policy: Policy = field(default_factory=Policy)
    moved: tuple[Moved, ...] = ()


# --------------------------------------------------------------------------- live


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
    # Codat's daily quota as the last read saw it (None: not said).
    rate_limit_remaining: int | None = None
    rate_limit_limit: int | None = None
    rate_limit_reset: str | None = None
    # Linked companies at risk whose data a refresh may save (company id -> why), read by the
    # health reads of converge, the watch and `audit --health`, never by `plan`.
    refresh_due: Mapping[str, str] = field(default_factory=dict)
