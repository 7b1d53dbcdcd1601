"""The integrations the sandbox knows: Sync for Expenses accounting platforms and the partner
expense integration. Duplicated here on purpose: the sandbox is Codat, not the reconciler."""

from __future__ import annotations

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

    @property
    def integration_id(self) -> str:
        """Stable per integration, like Codat's: every Xero connection shares one."""
        return str(uuid.uuid5(_NAMESPACE, f"integration:{self.key}"))

    @property
    def source_id(self) -> str:
        return str(uuid.uuid5(_NAMESPACE, f"source:{self.key}"))


ACCOUNTING_PLATFORMS: Final = MappingProxyType(
    {
        i.key: i
        for i in (
            Integration("akxx", "Oracle NetSuite", "Accounting"),
            Integration("pqsw", "QuickBooks Desktop", "Accounting"),
            Integration("qhyg", "QuickBooks Online", "Accounting"),
            Integration("knfz", "Sage Intacct", "Accounting"),
            Integration("gbol", "Xero", "Accounting"),
            Integration("trji", "Dynamics 365 Business Central", "Accounting"),
            Integration("fbrh", "FreeAgent", "Accounting"),
            Integration("rwuv", "Zoho Books", "Accounting"),
        )
    }
)

PARTNER_EXPENSE: Final = Integration("expn", "Partner Expense", "Expense")

# Accounting platforms Codat offers outside Sync for Expenses: a real fleet has them, so
# `POST /connections` accepts them too (the reconciler must leave them alone).
OTHER_ACCOUNTING_PLATFORMS: Final = MappingProxyType(
    {i.key: i for i in (Integration("hbql", "Sage 50 (UK)", "Accounting"),)}
)
# What `POST /companies/{id}/connections` accepts.
CONNECTABLE_PLATFORMS: Final = MappingProxyType(
    {**ACCOUNTING_PLATFORMS, **OTHER_ACCOUNTING_PLATFORMS}
)

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
# The CLI's words for them.
SOURCE_TYPES: Final = MappingProxyType({"accounting": ACCOUNTING, "expense": EXPENSE})

# `dataConnectionErrors[].status`: an error stays Active until it is Resolved.
ERROR_ACTIVE: Final = "Active"
ERROR_RESOLVED: Final = "Resolved"
