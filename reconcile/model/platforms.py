"""The accounting platforms Sync for Expenses supports, and how a connection names one."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType


@dataclass(frozen=True, slots=True)
class Platform:
    """An accounting platform supported by Sync for Expenses."""

    key: str
    name: str
    aliases: tuple[str, ...]

    @property
    def label(self) -> str:
        return _label(self.name, self.key)


@cache
def _label(name: str, key: str) -> str:
    """One string per platform: a plan of 100,000 customers names platforms in 30,000 notes."""
    return f"{name} ({key})"


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
