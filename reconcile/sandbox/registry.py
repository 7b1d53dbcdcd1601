"""The integrations the sandbox knows, as a Codat account has them enabled: the Sync for Expenses
accounting platforms, the partner expense integration, and, as on a real account, integrations
outside Sync for Expenses (other accounting platforms such as Sage 50 or MYOB, banking and commerce
sources) that a customer or another team may have connected. Every one of them can be created over
`POST /companies/{companyId}/connections`; only the partner expense one has its own endpoint.
Duplicated here on purpose: the sandbox is Codat, not the reconciler."""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

# The tags operators use to name their customers (the reconciler's convention, seen from Codat's
# side): `sandbox authorize --uid UID` finds `reconcile.uid=UID`; `sandbox seed` writes both.
OWNER_TAG: Final = "reconcile.owner"
UID_TAG: Final = "reconcile.uid"

# Where `sandbox serve` listens by default; linkUrls made outside a request (the store's
# default, `sandbox seed`) point there.
DEFAULT_PORT: Final = 8765
DEFAULT_BASE_URL: Final = f"http://127.0.0.1:{DEFAULT_PORT}"

_NAMESPACE: Final = uuid.UUID("6f3a0c52-8d1e-4b7a-9c55-0d2f6e1b7a10")


@dataclass(frozen=True)
class Integration:
    key: str
    name: str
    source_type: str  # the wire `sourceType`: Accounting or Expense

    @functools.cached_property
    def integration_id(self) -> str:
        """Stable per integration, like Codat's: every Xero connection shares one."""
        return str(uuid.uuid5(_NAMESPACE, f"integration:{self.key}"))

    @functools.cached_property
    def source_id(self) -> str:
        return str(uuid.uuid5(_NAMESPACE, f"source:{self.key}"))


def _by_key(*integrations: Integration) -> MappingProxyType[str, Integration]:
    return MappingProxyType({i.key: i for i in integrations})


# The Sync for Expenses accounting platforms, as (key, name).
ACCOUNTING_PLATFORMS: Final = _by_key(
    *(
        Integration(key, name, "Accounting")
        for key, name in (
            ("akxx", "Oracle NetSuite"),
            ("pqsw", "QuickBooks Desktop"),
            ("qhyg", "QuickBooks Online"),
            ("knfz", "Sage Intacct"),
            ("gbol", "Xero"),
            ("trji", "Dynamics 365 Business Central"),
            ("fbrh", "FreeAgent"),
            ("rwuv", "Zoho Books"),
        )
    )
)

PARTNER_EXPENSE: Final = Integration("expn", "Partner Expense", "Expense")

# Integrations outside Sync for Expenses. `hbql` (Sage 50), `vjms` (Pandle) and `dfxm` (Basiq) are
# the keys Codat's documents show; the others follow Codat's shape (four lower-case letters) and
# stand for the platform named, as the sandbox's own keys.
OTHER_INTEGRATIONS: Final = _by_key(
    Integration("hbql", "Sage 50 (UK)", "Accounting"),
    Integration("pdvj", "MYOB Business", "Accounting"),
    Integration("vjms", "Pandle", "Accounting"),
    Integration("tgff", "Sage Business Cloud Accounting", "Accounting"),
    Integration("qudb", "Exact Online", "Accounting"),
    Integration("dfxm", "Basiq", "Banking"),
    Integration("plad", "Plaid", "Banking"),
    Integration("trlr", "TrueLayer", "Banking"),
    Integration("shpf", "Shopify", "Commerce"),
    Integration("strp", "Stripe", "Commerce"),
    Integration("sqre", "Square", "Commerce"),
)
# Every integration `POST .../connections` accepts, by platform key.
CONNECTABLE: Final = MappingProxyType({**ACCOUNTING_PLATFORMS, **OTHER_INTEGRATIONS})

# Connection statuses (the wire `status`), and the source types the sandbox serves.
PENDING_AUTH: Final = "PendingAuth"
LINKED: Final = "Linked"
UNLINKED: Final = "Unlinked"
DEAUTHORIZED: Final = "Deauthorized"
CONNECTION_STATUSES: Final = (PENDING_AUTH, LINKED, UNLINKED, DEAUTHORIZED)
# An accounting connection in one of these states blocks creating another one.
ACTIVE_STATUSES: Final = (PENDING_AUTH, LINKED)
ACCOUNTING: Final = "Accounting"
EXPENSE: Final = "Expense"
BANKING: Final = "Banking"
COMMERCE: Final = "Commerce"
# The CLI's words for them.
SOURCE_TYPES: Final = MappingProxyType(
    {"accounting": ACCOUNTING, "expense": EXPENSE, "banking": BANKING, "commerce": COMMERCE}
)

# `dataConnectionErrors[].status`: an error stays Active until it is Resolved.
ERROR_ACTIVE: Final = "Active"
ERROR_RESOLVED: Final = "Resolved"
