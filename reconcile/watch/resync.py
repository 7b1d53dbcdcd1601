"""What the watch reads at each resync: the listing, what changed, a slice of the config sweep
(docs/design.md §11, docs/watch.md "What it reads a day").

A resync (every `--resync`) reads the owner's listing (one request per 5,000 companies) and
compares each company with the last pass's listing, kept here as a fingerprint per company (every
field of the listing the planner sees: name, description, tags, creation date, connections with
their status, platform and errors). A company new, gone, or whose fingerprint differs is a
listing change: its expense config (and mapping options, where the config would change) is read
in this pass, as a full pass would. So is a company whose config could not be read last time or
was just written, and the sweep's slice (`reconcile.watch.sweep`). Every other company's config
is the one last read: the plan of the whole fleet is made from the listing and those.

A full pass (the start, a changed file, SIGHUP, `POST /resync`, the quota's reset) reads every
config. A pass of a few companies (a webhook's) reads them in full, as before, and what it reads
is kept here too. Nothing here reads Codat: `choice()` answers the fleet read's question (which
configs to read fresh, `reconcile.facts.configs.ConfigChoice`), and `after()` keeps what the
pass found.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from reconcile.model import Company, ExpenseConfig, Status
from reconcile.plans import Kind
from reconcile.watch.budget import Budget
from reconcile.watch.sweep import ConfigSweep, Slice

if TYPE_CHECKING:
    from reconcile.converge import PassResult
    from reconcile.watch.passes import PassReport

Log = Callable[[str], None]
COMPANIES_PER_PAGE = 5000


def fingerprint(company: Company) -> bytes:
    """Every field of the listing the model holds but the Link URLs (Codat may hand out a new
    one at each read of a connection awaiting authorization: not a change of the company)."""
    seen = (
        company.id,
        company.name,
        company.description,
        sorted(company.tags.items()),
        company.created,
        [replace(conn, link_url="") for conn in company.connections],
    )
    return hashlib.blake2b(repr(seen).encode(), digest_size=16).digest()


def active(companies: Sequence[Company]) -> int:
    """Codat's active connected companies among these: a Linked connection."""
    return sum(
        1 for c in companies if any(conn.status == Status.LINKED.value for conn in c.connections)
    )


@dataclass
class Choice:
    """One pass's answer to the fleet read (`__call__`), and what it chose, for `after()`."""

    reads: ResyncReads
    full: bool
    prints: dict[str, bytes] = field(default_factory=dict)
    changed: frozenset[str] = frozenset()
    fresh: frozenset[str] = frozenset()
    due: tuple[str, ...] = ()
    slice: Slice | None = None

    def __call__(
        self, companies: Sequence[Company], due: Sequence[str]
    ) -> tuple[Collection[str], Mapping[str, ExpenseConfig | None]]:
        reads = self.reads
        reads.budget.sample()
        reads.budget.observe(active(companies))
        self.prints = {c.id: fingerprint(c) for c in companies}
        self.due = tuple(due)
        before = reads.fingerprints
        if self.full or before is None:
            self.full = True
            self.fresh = frozenset(due)
            return self.fresh, {}
        self.changed = frozenset(
            cid for cid, seen in self.prints.items() if before.get(cid) != seen
        ) | frozenset(cid for cid in before if cid not in self.prints)
        wanted = (self.changed | reads.pending) & set(due)
        pages = max(1, math.ceil(len(companies) / COMPANIES_PER_PAGE))  # each resync's listing
        allowance = reads.budget.allowance(reads.resync_seconds, pages)
        self.slice = reads.sweep.take(due, wanted, allowance)
        reads.pace(self.slice)
        self.fresh = frozenset(wanted | set(self.slice.ids))
        return self.fresh, reads.configs


class ResyncReads:
    """The last listing (fingerprints), the configs last read, and the sweep, across passes."""

    def __init__(self, sweep: ConfigSweep, budget: Budget, resync_seconds: float, log: Log) -> None:
        self.sweep = sweep
        self.budget = budget
        self.resync_seconds = resync_seconds
        self.log = log
        self.fingerprints: dict[str, bytes] | None = None
        self.configs: dict[str, ExpenseConfig | None] = {}
        self.pending: set[str] = set()  # configs to read at the next resync
        self.slowed = False
        self.last: Choice | None = None

    def choice(self, *, full: bool) -> Choice:
        """The answer to one pass of the whole fleet (`full`: read every config)."""
        return Choice(self, full)

    def pace(self, taken: Slice) -> None:
        """Say when the budget slows the sweep, and when it is back to its pace."""
        if taken.slowed and not self.slowed:
            b = self.budget
            self.log(
                f"request budget: {b.spent_today:,} of {b.budget:,} spent today (UTC); the "
                f"config sweep slows to {len(taken.ids)} a resync (its pace asks {taken.owed}); "
                "webhooks and listing changes are still read at once"
            )
        elif not taken.slowed and self.slowed:
            self.log("request budget: the config sweep is back to its pace")
        self.slowed = taken.slowed

    def after(self, choice: Choice | None, result: PassResult) -> None:
        """Keep what a pass found (`choice`: the whole fleet's; None: a few companies')."""
        live = result.live
        if live is None:
            return
        found = live.expense_configs
        if choice is None:  # a pass of a few companies: what it read is the freshest
            for company in live.companies:
                if self.fingerprints is not None:
                    self.fingerprints[company.id] = fingerprint(company)
                if company.id in found:
                    self.configs[company.id] = found[company.id]
                    self.pending.discard(company.id)
            self.sweep.read(c.id for c in live.companies if c.id in found)
        else:
            self._after_fleet(choice, found)
        for company_id in _configs_written(result):
            self.pending.add(company_id)
        self.budget.sample()
        self.last = choice or self.last

    def _after_fleet(self, choice: Choice, found: Mapping[str, ExpenseConfig | None]) -> None:
        self.fingerprints = choice.prints
        due = set(choice.due)
        read = {cid for cid in choice.fresh if cid in found}
        self.configs = {cid: cfg for cid, cfg in self.configs.items() if cid in due}
        self.configs.update({cid: found[cid] for cid in read})
        self.pending = (self.pending & due) - read
        self.pending |= set(choice.fresh) - read  # could not be read: next time
        if choice.full:
            self.sweep.read_all(due)
        else:
            self.sweep.read(read)

    def said(self, report: PassReport) -> str:
        """What a pass of the whole fleet read beyond the listing, for its log line."""
        last = self.last
        if report.company_ids is not None or last is None:
            return ""
        if last.full:
            return f"; every expense config read: {len(last.fresh):,}"
        swept = len(last.slice.ids) if last.slice is not None else 0
        changed = len(last.changed)
        return (
            f"; {changed:,} listing change{'' if changed == 1 else 's'}, "
            f"{len(last.fresh):,} expense configs read ({swept:,} by the sweep)"
        )

    def document(self) -> dict[str, Any]:
        """For /status: the budget and the sweep."""
        last = self.last
        return {
            **self.budget.document(),
            "config_sweep": {
                "period_seconds": self.sweep.period_seconds,
                "due": self.sweep.due,
                "read_this_round": self.sweep.read_this_round,
                "rounds_done": self.sweep.rounds,
                "slowed": self.slowed,
                "last_slice": len(last.slice.ids) if last and last.slice else 0,
                "last_listing_changes": len(last.changed) if last else 0,
            },
        }

    def rows(self) -> tuple[tuple[str, str], ...]:
        """For the status page: the budget and the sweep, one line each."""
        b, s = self.budget, self.sweep
        share = b.spent_today / b.budget if b.budget else 0.0
        pace = "slowed by the budget" if self.slowed else "on pace"
        return (
            (
                "Requests today (UTC)",
                f"{b.spent_today:,} of a budget of {b.budget:,} ({share:.1%}; "
                f"{b.setting.describe()}: {b.client_limit:,} for {b.active_companies:,} active "
                "companies)",
            ),
            (
                "Config sweep",
                f"{s.read_this_round:,} of {s.due:,} read this round, one round every "
                f"{_duration(s.period_seconds)}; {pace}",
            ),
        )


def _configs_written(result: PassResult) -> set[str]:
    """Companies whose expense config the pass wrote (or tried to): read them again next time."""
    return {
        o.action.company_id or o.company_id or ""
        for o in result.applied.outcomes
        if o.action.kind is Kind.SET_EXPENSE_CONFIG and o.status != "not_started"
    } - {""}


def _duration(seconds: float) -> str:
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"
