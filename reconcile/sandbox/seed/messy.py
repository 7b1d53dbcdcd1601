"""`sandbox seed --messy`: the fleets a real Codat account grows that a clean population lacks.

Each group adds, for the owners round robin (uids numbered after every company already in the
file, so a second seed never reuses one):

- **unknown platform**: a managed company whose Linked accounting connection is Sage 50 (`hbql`),
  not a Sync for Expenses platform, beside a Linked Basiq (banking) and a PendingAuth Shopify
  (commerce) connection;
- **commerce beside**: a managed company with Linked Xero, its partner expense connection, and a
  Linked Stripe (commerce) connection another team made;
- **two active**: a managed company with two Linked accounting connections (Xero and QuickBooks
  Online) and the partner expense connection. The API refuses a second active accounting
  connection; Codat's fleets still hold them (made before the rule, or through the portal), so
  the seed makes one the way the portal would: the first is set aside while the second is made;
- **duplicate uid**: two managed companies with one uid: the older holds Linked Xero, the
  partner expense connection and an expense config; the newer is empty (a create retried by
  hand);
- **same name**: two untagged companies of one name, one with a Linked FreeAgent connection;
- **deauthorized**: a managed company whose Xero connection is Deauthorized with an Active 401
  error after a Resolved 503, its partner expense connection still Linked.

Deterministic for a seed (names, tags, platforms; not the ids and timestamps the store makes).
Written through the Store's public methods, like `sandbox seed`.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final

from reconcile.sandbox.registry import (
    DEAUTHORIZED,
    DEFAULT_BASE_URL,
    LINKED,
    OWNER_TAG,
    UID_TAG,
    UNLINKED,
)
from reconcile.sandbox.store.store import Store

MESSY_KINDS: Final = (
    "unknown platform",
    "commerce beside",
    "two active",
    "duplicate uid",
    "same name",
    "deauthorized",
)
_NAMES: Final = (
    "Umbrella Books",
    "Globex Limited",
    "Initech Ledger",
    "Hooli Accounts",
    "Vandelay Imports",
    "Soylent Foods",
    "Wonka Treats",
    "Tyrell Systems",
)


class _Seeder:
    def __init__(self, store: Store, link_base_url: str, counts: Counter[str]) -> None:
        self.store = store
        self.base = link_base_url
        self.counts = counts

    def company(self, name: str, tags: dict[str, str]) -> str:
        self.counts["companies"] += 1
        self.counts["managed" if OWNER_TAG in tags else "unmanaged"] += 1
        return str(self.store.create_company(name, None, tags, link_base_url=self.base)["id"])

    def connect(self, company_id: str, key: str, status: str = LINKED) -> str:
        connection_id = str(self.store.create_connection(company_id, key, self.base)["id"])
        if status != "PendingAuth":
            self.store.set_connection_status(company_id, connection_id, status)
        self.counts[status] += 1
        return connection_id

    def partner_expense(self, company_id: str) -> None:
        self.store.create_partner_expense_connection(company_id, self.base)
        self.counts["partner expense"] += 1


def seed_messy(
    db_path: str | Path,
    owners: tuple[str, ...],
    groups: int = 1,
    seed: int = 0,
    *,
    link_base_url: str = DEFAULT_BASE_URL,
) -> Counter[str]:
    """Add `groups` of each messy kind; returns counts (companies, statuses, each kind)."""
    rng = random.Random(f"messy:{seed}")
    counts: Counter[str] = Counter()
    store = Store(db_path)
    try:
        start = store.count_companies()
        width = max(5, len(str(start + groups * 8)))
        numbers = iter(range(start + 1, start + groups * 8 + 1))

        def uid() -> str:
            return f"cus-{next(numbers):0{width}d}"

        seeder = _Seeder(store, link_base_url, counts)
        kinds: dict[str, Callable[[_Seeder, str, str, Callable[[], str]], None]] = {
            "unknown platform": _unknown_platform,
            "commerce beside": _commerce_beside,
            "two active": _two_active,
            "duplicate uid": _duplicate_uid,
            "same name": _same_name,
            "deauthorized": _deauthorized,
        }
        with store.transaction():
            for group in range(groups):
                for n, (kind, make) in enumerate(kinds.items()):
                    owner = owners[(group * len(kinds) + n) % len(owners)]
                    name = f"{rng.choice(_NAMES)} {start + group * len(kinds) + n + 1}"
                    make(seeder, owner, name, uid)
                    counts[kind] += 1
    finally:
        store.close()
    return counts


def _managed(owner: str, uid: str) -> dict[str, str]:
    return {OWNER_TAG: owner, UID_TAG: uid}


def _unknown_platform(s: _Seeder, owner: str, name: str, uid: Callable[[], str]) -> None:
    company = s.company(name, _managed(owner, uid()))
    s.connect(company, "hbql")
    s.connect(company, "dfxm")
    s.connect(company, "shpf", "PendingAuth")


def _commerce_beside(s: _Seeder, owner: str, name: str, uid: Callable[[], str]) -> None:
    company = s.company(name, _managed(owner, uid()))
    s.connect(company, "gbol")
    s.partner_expense(company)
    s.connect(company, "strp")


def _two_active(s: _Seeder, owner: str, name: str, uid: Callable[[], str]) -> None:
    company = s.company(name, _managed(owner, uid()))
    first = s.connect(company, "gbol")
    s.partner_expense(company)
    # As the portal would: the first is set aside while the second is made, then restored.
    s.store.set_connection_status(company, first, UNLINKED)
    s.connect(company, "qhyg")
    s.store.set_connection_status(company, first, LINKED)


def _duplicate_uid(s: _Seeder, owner: str, name: str, uid: Callable[[], str]) -> None:
    tags = _managed(owner, uid())
    live = s.company(name, tags)
    s.connect(live, "gbol")
    s.partner_expense(live)
    s.store.set_expense_config(
        live, {"bankAccount": {"id": "89"}, "supplier": {"id": "124"}, "customer": {"id": "140"}}
    )
    s.counts["expense config"] += 1
    s.company(name, tags)  # the empty twin, made later


def _same_name(s: _Seeder, owner: str, name: str, uid: Callable[[], str]) -> None:
    first = s.company(name, {})
    s.connect(first, "fbrh")
    s.company(name, {})


def _deauthorized(s: _Seeder, owner: str, name: str, uid: Callable[[], str]) -> None:
    company = s.company(name, _managed(owner, uid()))
    connection = s.connect(company, "gbol")
    s.partner_expense(company)
    s.store.set_connection_status(company, connection, DEAUTHORIZED)
    s.counts[LINKED] -= 1
    s.counts[DEAUTHORIZED] += 1
    now = datetime.now(UTC)
    s.store.add_connection_error(
        company, connection, "The platform was unavailable during the last sync.",
        status_code="503", status_text="Service Unavailable", errored_on=_iso(now, days=9),
    )  # fmt: skip
    s.store.resolve_connection_errors(company, connection)
    s.store.add_connection_error(
        company, connection, "The access token has expired; the customer must authorize again.",
        status_code="401", status_text="Unauthorized", errored_on=_iso(now, days=2),
    )  # fmt: skip
    s.counts["connection errors"] += 2


def _iso(now: datetime, *, days: int) -> str:
    return (now - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
