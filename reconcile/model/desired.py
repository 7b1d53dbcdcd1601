"""The desired state: customers, environments and policy as the operator's file says them.

Built by `reconcile.desired` from YAML; nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Literal

from reconcile.model.expense import ExpenseConfig as ExpenseConfig
from reconcile.model.tags import OWNER_TAG, PROTECT_TAG, PROTECT_VALUE, UID_TAG


@dataclass(frozen=True, slots=True)
class Location:
    """Where a node was written: 1-based line and column."""

    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


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


def name_key(name: str) -> str:
    """A company's or customer's name as identity compares it: spaces collapsed, case folded
    ("Acme  ltd" is "ACME Ltd")."""
    return " ".join(name.split()).casefold()


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
# `policy.refreshDataEvery`: refresh_data refreshes a customer at most once per this period.
DEFAULT_REFRESH_DATA_EVERY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Policy:
    """What the file pre-approves: `auto` for converge and watch; `prune`: a customer that
    left every file is offboarded as `state: absent` would (Terraform's behaviour); false
    (default): its Linked connections stay and the plan reports it; `refreshDataEvery`: how
    often refresh_data may refresh one customer."""

    auto: frozenset[str] = DEFAULT_AUTO
    prune: bool = False
    # refresh_data: at most one refresh of a customer per period, remembered by Codat (its pull
    # history), so shared by every runner and kept across restarts.
    refresh_data_every: timedelta = DEFAULT_REFRESH_DATA_EVERY


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
