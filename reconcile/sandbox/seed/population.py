"""Fill a sandbox's SQLite file with a realistic population of companies, quickly.

The population, for `--companies N` and owners O1..Ok (tags as Codat stores them):

- ~70% managed: `reconcile.owner=<Oi>` (round robin) and `reconcile.uid=cus-00001`... plus user
  tags (`region`, often `plan`, sometimes `team`);
- ~10% managed by another owner (`reconcile.owner=other-team-<n>`), with their own uids;
- ~20% unmanaged: no reconcile tags, some with user tags only.

Each company gets one of the connection histories Codat shows in practice: none; an accounting
connection PendingAuth; Linked (most with the Linked partner expense connection, half of those
with an expense config); Linked without partner expense; Deauthorized; an Unlinked one followed by
a new PendingAuth or Linked one. Accounting platforms are drawn from the eight Sync for Expenses
platforms with realistic weights.

With `--connection-errors RATE`, that share of the companies whose current accounting connection
is Linked, PendingAuth or Deauthorized get an Active `dataConnectionErrors` entry on it (a 401
token expiry, a 403, a platform 429 or 5xx, errored up to 30 days ago), a third of them after an
older Resolved one. Drawn from a random stream of its own, so the rest of the population is the
same with or without it (and by default there are none).

With `--expense-configs SHARE`, that share of the companies whose accounting connection is
Linked get an expense config (1.0: a fleet that syncs expenses, every Linked company configured),
instead of half of those with the partner expense connection.

Deterministic for a seed: names, tags, platforms, statuses and errors (the ids and timestamps the
store generates are not). Everything is written through the Store's public methods inside one
transaction (its bulk `create_companies`, then the connections), so 10,000 companies take about a
second or two.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final, TypeVar

import click

from reconcile.sandbox.registry import (
    CONNECTION_STATUSES,
    DEAUTHORIZED,
    DEFAULT_BASE_URL,
    LINKED,
    OWNER_TAG,
    PENDING_AUTH,
    UID_TAG,
    UNLINKED,
)
from reconcile.sandbox.seed.messy import MESSY_KINDS, seed_messy
from reconcile.sandbox.store.accounting_data import CORE_CUSTOMER_IDS, CORE_SUPPLIER_IDS
from reconcile.sandbox.store.store import Store

T = TypeVar("T")

DEFAULT_OWNER: Final = "expenses-demo"
MESSY_PER: Final = 50  # `--messy`: one group of each messy kind per this many companies

PLATFORM_WEIGHTS: Final = (
    ("qhyg", 30),  # QuickBooks Online
    ("gbol", 25),  # Xero
    ("akxx", 12),  # Oracle NetSuite
    ("knfz", 8),  # Sage Intacct
    ("trji", 8),  # Dynamics 365 Business Central
    ("pqsw", 7),  # QuickBooks Desktop
    ("fbrh", 5),  # FreeAgent
    ("rwuv", 5),  # Zoho Books
)
# (history, weight): a history is the sequence of accounting statuses, oldest first, and whether
# the partner expense connection exists.
HISTORIES: Final = (
    (((), False), 12),
    (((PENDING_AUTH,), False), 18),
    (((LINKED,), True), 38),
    (((LINKED,), False), 8),
    (((DEAUTHORIZED,), False), 8),
    (((UNLINKED, PENDING_AUTH), False), 6),
    (((UNLINKED, LINKED), True), 6),
    (((DEAUTHORIZED, LINKED), True), 4),
)
# (statusCode, statusText, errorMessage) of the errors a platform reports.
CONNECTION_ERRORS: Final = (
    ("401", "Unauthorized", "The access token has expired; the customer must authorize again."),
    ("403", "Forbidden", "The user who linked the company no longer has access to its data."),
    ("429", "Too Many Requests", "The platform's rate limit was reached during the last sync."),
    ("500", "Internal Server Error", "The platform returned an unexpected error."),
    ("503", "Service Unavailable", "The platform was unavailable during the last sync."),
)
ERRORED_STATUSES: Final = (LINKED, PENDING_AUTH, DEAUTHORIZED)
REGIONS: Final = ("uk", "us", "de", "fr", "nl", "ie", "au", "ca")
PLANS: Final = ("starter", "growth", "enterprise")
TEAMS: Final = ("emea", "amer", "apac")
_FIRST: Final = (
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Hooli",
    "Stark",
    "Wayne",
    "Wonka",
    "Tyrell",
    "Cyberdyne",
    "Soylent",
    "Vandelay",
    "Pied Piper",
    "Sterling",
    "Bluth",
    "Dunder",
    "Oscorp",
    "Gringotts",
    "Monarch",
    "Northwind",
    "Contoso",
    "Fabrikam",
    "Aperture",
    "Massive Dynamic",
    "Prestige",
    "Nakatomi",
    "Ollivander",
    "Kwik",
    "Blue Sun",
    "Weyland",
)
_SECOND: Final = (
    "Trading",
    "Logistics",
    "Foods",
    "Analytics",
    "Robotics",
    "Consulting",
    "Design",
    "Holdings",
    "Labs",
    "Supplies",
    "Media",
    "Travel",
    "Energy",
    "Health",
    "Studios",
)
_SUFFIX: Final = ("Ltd", "Inc.", "GmbH", "LLC", "Group", "& Co", "PLC", "B.V.", "S.A.S.", "")


def _weighted(rng: random.Random, table: tuple[tuple[T, int], ...]) -> T:
    return rng.choices([item for item, _ in table], [w for _, w in table])[0]


def _name(rng: random.Random, n: int) -> str:
    parts = [rng.choice(_FIRST), rng.choice(_SECOND), rng.choice(_SUFFIX)]
    name = " ".join(p for p in parts if p)
    return name if rng.random() < 0.9 else f"{name} {n}"


def _user_tags(rng: random.Random) -> dict[str, str]:
    tags = {"region": rng.choice(REGIONS)}
    if rng.random() < 0.6:
        tags["plan"] = rng.choice(PLANS)
    if rng.random() < 0.3:
        tags["team"] = rng.choice(TEAMS)
    return tags


def plan_population(
    companies: int, owners: tuple[str, ...], seed: int, start: int = 0
) -> list[tuple[str, str | None, dict[str, str], tuple[tuple[str, ...], bool], str]]:
    """(name, description, tags, (accounting statuses, partner expense), platform) per company.

    uids are numbered from `start + 1`: seeding a file that already holds `start` companies
    never reuses a uid (each company carries at most one).
    """
    rng = random.Random(seed)
    width = max(5, len(str(start + companies)))
    population = []
    managed = start
    foreign = start
    for n in range(1, companies + 1):
        kind = rng.random()
        tags: dict[str, str]
        if kind < 0.7:
            managed += 1
            tags = {
                OWNER_TAG: owners[(managed - 1) % len(owners)],
                UID_TAG: f"cus-{managed:0{width}d}",
                **_user_tags(rng),
            }
        elif kind < 0.8:
            foreign += 1
            tags = {
                OWNER_TAG: f"other-team-{rng.randint(1, 3)}",
                UID_TAG: f"ext-{foreign:0{width}d}",
                **_user_tags(rng),
            }
        else:
            tags = _user_tags(rng) if rng.random() < 0.5 else {}
        description = "Seeded customer" if rng.random() < 0.3 else None
        history = _weighted(rng, HISTORIES)
        platform = _weighted(rng, PLATFORM_WEIGHTS)
        population.append((_name(rng, n), description, tags, history, platform))
    return population


def seed_population(
    db_path: str | Path,
    companies: int,
    owner: str | tuple[str, ...] = DEFAULT_OWNER,
    seed: int = 0,
    *,
    link_base_url: str = DEFAULT_BASE_URL,
    connection_errors: float = 0.0,
    expense_configs: float | None = None,
) -> Counter[str]:
    """Add `companies` companies with their connections; returns counts of what was created.
    `expense_configs`: the share of companies whose accounting connection is Linked that get an
    expense config (1.0: every one, as a fleet that syncs expenses has); None: half of those with
    the partner expense connection."""
    owners = (owner,) if isinstance(owner, str) else tuple(owner) or (DEFAULT_OWNER,)
    config_rng = random.Random(seed + 1)
    error_rng = random.Random(seed + 2)
    now = datetime.now(UTC)
    counts: Counter[str] = Counter()
    store = Store(db_path)
    try:
        population = plan_population(companies, owners, seed, start=store.count_companies())
        with store.transaction():
            ids = store.create_companies(
                ((name, description, tags) for name, description, tags, _, _ in population),
                link_base_url=link_base_url,
            )
            counts["companies"] = len(ids)
            for company_id, (_, _, tags, (statuses, expense), platform) in zip(
                ids, population, strict=True
            ):
                counts["managed" if OWNER_TAG in tags else "unmanaged"] += 1
                connection = None
                for status in statuses:
                    connection = store.create_connection(company_id, platform, link_base_url)
                    if status != PENDING_AUTH:
                        store.set_connection_status(company_id, connection["id"], status)
                    counts[status] += 1
                if (
                    connection_errors > 0
                    and connection is not None
                    and statuses[-1] in ERRORED_STATUSES
                    and error_rng.random() < connection_errors
                ):
                    counts["connection errors"] += _add_errors(
                        store, company_id, connection["id"], error_rng, now
                    )
                if expense:
                    store.create_partner_expense_connection(company_id, link_base_url)
                    counts["partner expense"] += 1
                if expense_configs is None:
                    configured = expense and config_rng.random() < 0.5
                else:
                    linked = bool(statuses) and statuses[-1] == LINKED
                    configured = linked and config_rng.random() < expense_configs
                if configured:
                    store.set_expense_config(company_id, _config(config_rng))
                    counts["expense config"] += 1
    finally:
        store.close()
    return counts


def _config(rng: random.Random) -> dict[str, dict[str, str]]:
    """An expense config naming ids every sandbox company holds."""
    return {
        "bankAccount": {"id": rng.choice(("89", "90"))},
        "supplier": {"id": rng.choice(CORE_SUPPLIER_IDS)},
        "customer": {"id": rng.choice(CORE_CUSTOMER_IDS)},
    }


def _add_errors(
    store: Store, company_id: str, connection_id: str, rng: random.Random, now: datetime
) -> int:
    """An Active error (and, a third of the time, an older Resolved one first); how many."""
    added = 0
    ago = timedelta(minutes=rng.randint(10, 30 * 24 * 60))
    if rng.random() < 1 / 3:
        code, text, message = rng.choice(CONNECTION_ERRORS)
        earlier = now - ago - timedelta(days=rng.randint(1, 60))
        store.add_connection_error(
            company_id, connection_id, message, status_code=code, status_text=text,
            errored_on=_iso(earlier),
        )  # fmt: skip
        store.resolve_connection_errors(company_id, connection_id)
        added += 1
    code, text, message = rng.choice(CONNECTION_ERRORS)
    store.add_connection_error(
        company_id, connection_id, message, status_code=code, status_text=text,
        errored_on=_iso(now - ago),
    )  # fmt: skip
    return added + 1


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@click.command("seed")
@click.option(
    "--db",
    "db_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The sandbox's SQLite file (created if missing; companies are added).",
)
@click.option(
    "--companies", required=True, type=click.IntRange(min=0), help="How many companies to add."
)
@click.option(
    "--owner",
    "owners",
    multiple=True,
    help=f"Owner tag value of the managed companies (repeatable; default {DEFAULT_OWNER}).",
)
@click.option(
    "--seed",
    default=0,
    show_default=True,
    type=int,
    help="Random seed: the same seed gives the same population.",
)
@click.option(
    "--link-base-url",
    default=DEFAULT_BASE_URL,
    show_default=True,
    help="Base URL of the served sandbox, for the connections' linkUrl.",
)
@click.option(
    "--connection-errors",
    default=0.0,
    show_default=True,
    type=click.FloatRange(0.0, 1.0),
    help="Share of current accounting connections given an Active dataConnectionErrors entry.",
)
@click.option(
    "--expense-configs",
    type=click.FloatRange(0.0, 1.0),
    help="Share of the companies whose accounting connection is Linked that have an expense "
    "config (1.0: every one, as a fleet that syncs expenses has). Default: half of those with "
    "the partner expense connection.",
)
@click.option(
    "--messy",
    is_flag=True,
    help="Also add the fleets real Codat accounts grow (platforms outside Sync for Expenses, "
    "two active accounting connections, duplicate uids, same-name untagged companies, "
    "Deauthorized connections with errors): one of each per 50 companies, at least one.",
)
def seed_command(
    db_path: Path,
    companies: int,
    owners: tuple[str, ...],
    seed: int,
    link_base_url: str,
    connection_errors: float,
    expense_configs: float | None,
    messy: bool,
) -> None:
    """Add a realistic population of companies and connections to a sandbox database."""
    counts = seed_population(
        db_path,
        companies,
        owners or DEFAULT_OWNER,
        seed,
        link_base_url=link_base_url,
        connection_errors=connection_errors,
        expense_configs=expense_configs,
    )
    if messy:
        counts.update(
            seed_messy(
                db_path,
                owners or (DEFAULT_OWNER,),
                max(1, companies // MESSY_PER),
                seed,
                link_base_url=link_base_url,
            )
        )
    summary = ", ".join(
        f"{counts[k]} {k}"
        for k in (
            "companies",
            "managed",
            "unmanaged",
            *CONNECTION_STATUSES,
            "partner expense",
            "expense config",
            *(("connection errors",) if connection_errors or messy else ()),
            *(MESSY_KINDS if messy else ()),
        )
    )
    click.echo(f"Seeded {db_path}: {summary}")
