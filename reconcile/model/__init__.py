"""Plain typed data shared by every layer: platforms, desired customers, live companies.

Nothing here does I/O. Desired objects come from `reconcile.desired`, live objects from
`reconcile.facts`; the planner compares the two. Each concern has its own module (`tags`,
`platforms`, `desired`, `live`, `who`); this package re-exports them so the rest of the code
base imports from `reconcile.model`. Each name is imported on first use (`__getattr__`): a
plan's client needs the live model before its first request, the desired model's classes only
once the files are built, while Codat answers.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from reconcile.model.desired import AUTO_ACCOUNTING_RECREATE as AUTO_ACCOUNTING_RECREATE
    from reconcile.model.desired import AUTO_COMPANY_RESTORE as AUTO_COMPANY_RESTORE
    from reconcile.model.desired import AUTO_EXPENSE_CONFIG as AUTO_EXPENSE_CONFIG
    from reconcile.model.desired import AUTO_KINDS as AUTO_KINDS
    from reconcile.model.desired import AUTO_PARTNER_EXPENSE as AUTO_PARTNER_EXPENSE
    from reconcile.model.desired import AUTO_REFRESH_DATA as AUTO_REFRESH_DATA
    from reconcile.model.desired import DEFAULT_AUTO as DEFAULT_AUTO
    from reconcile.model.desired import DEFAULT_REFRESH_DATA_EVERY as DEFAULT_REFRESH_DATA_EVERY
    from reconcile.model.desired import OVERRIDABLE as OVERRIDABLE
    from reconcile.model.desired import AccountSettings as AccountSettings
    from reconcile.model.desired import ConsumerWanted as ConsumerWanted
    from reconcile.model.desired import Customer as Customer
    from reconcile.model.desired import CustomerState as CustomerState
    from reconcile.model.desired import DesiredState as DesiredState
    from reconcile.model.desired import Environment as Environment
    from reconcile.model.desired import Location as Location
    from reconcile.model.desired import Moved as Moved
    from reconcile.model.desired import Policy as Policy
    from reconcile.model.desired import SyncWanted as SyncWanted
    from reconcile.model.desired import name_key as name_key
    from reconcile.model.expense import ExpenseConfig as ExpenseConfig
    from reconcile.model.live import ACTIVE_STATUSES as ACTIVE_STATUSES
    from reconcile.model.live import Company as Company
    from reconcile.model.live import Connection as Connection
    from reconcile.model.live import ConnectionError_ as ConnectionError_
    from reconcile.model.live import LiveState as LiveState
    from reconcile.model.live import MappingOption as MappingOption
    from reconcile.model.live import MappingOptions as MappingOptions
    from reconcile.model.live import Profile as Profile
    from reconcile.model.live import Status as Status
    from reconcile.model.live import parse_time as parse_time
    from reconcile.model.platforms import PARTNER_EXPENSE_KEY as PARTNER_EXPENSE_KEY
    from reconcile.model.platforms import PARTNER_EXPENSE_NAME as PARTNER_EXPENSE_NAME
    from reconcile.model.platforms import PLATFORM_ALIASES as PLATFORM_ALIASES
    from reconcile.model.platforms import PLATFORMS as PLATFORMS
    from reconcile.model.platforms import PLATFORMS_BY_KEY as PLATFORMS_BY_KEY
    from reconcile.model.platforms import PLATFORMS_BY_NAME as PLATFORMS_BY_NAME
    from reconcile.model.platforms import Platform as Platform
    from reconcile.model.platforms import platform_of as platform_of
    from reconcile.model.platforms import resolve_platform as resolve_platform
    from reconcile.model.tags import MAX_TAG_KEY as MAX_TAG_KEY
    from reconcile.model.tags import MAX_TAG_VALUE as MAX_TAG_VALUE
    from reconcile.model.tags import MAX_TAGS as MAX_TAGS
    from reconcile.model.tags import MAX_USER_TAGS as MAX_USER_TAGS
    from reconcile.model.tags import MAX_USER_TAGS_PROTECTED as MAX_USER_TAGS_PROTECTED
    from reconcile.model.tags import OWNER_TAG as OWNER_TAG
    from reconcile.model.tags import PROTECT_TAG as PROTECT_TAG
    from reconcile.model.tags import PROTECT_VALUE as PROTECT_VALUE
    from reconcile.model.tags import RESERVED_TAG_PREFIX as RESERVED_TAG_PREFIX
    from reconcile.model.tags import UID_TAG as UID_TAG

# The names this package re-exports, by the module each lives in.
_NAMES = {
    "desired": (
        "AUTO_ACCOUNTING_RECREATE AUTO_COMPANY_RESTORE AUTO_EXPENSE_CONFIG AUTO_KINDS "
        "AUTO_PARTNER_EXPENSE AUTO_REFRESH_DATA DEFAULT_AUTO DEFAULT_REFRESH_DATA_EVERY "
        "OVERRIDABLE AccountSettings ConsumerWanted Customer CustomerState DesiredState "
        "Environment Location Moved Policy SyncWanted name_key"
    ),
    "expense": "ExpenseConfig",
    "live": (
        "ACTIVE_STATUSES Company Connection ConnectionError_ LiveState MappingOption "
        "MappingOptions Profile Status parse_time"
    ),
    "platforms": (
        "PARTNER_EXPENSE_KEY PARTNER_EXPENSE_NAME PLATFORM_ALIASES PLATFORMS "
        "PLATFORMS_BY_KEY PLATFORMS_BY_NAME Platform platform_of resolve_platform"
    ),
    "tags": (
        "MAX_TAG_KEY MAX_TAG_VALUE MAX_TAGS MAX_USER_TAGS MAX_USER_TAGS_PROTECTED "
        "OWNER_TAG PROTECT_TAG PROTECT_VALUE RESERVED_TAG_PREFIX UID_TAG"
    ),
}
_HOMES = {name: home for home, names in _NAMES.items() for name in names.split()}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value  # looked up once
    return value
