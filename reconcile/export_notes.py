"""What `reconcile export` says about a company beyond its fields: which of two twins is the
customer, whether a customer awaiting authorization still wants the partner expense connection,
same-name untagged companies. Pure; `reconcile.export` writes the notes as `# export:` comments.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from reconcile.escape import quoted, text
from reconcile.model import ACTIVE_STATUSES, UID_TAG, Company, Connection, Status

LINKED, PENDING, DEAUTHORIZED = (
    Status.LINKED.value,
    Status.PENDING_AUTH.value,
    Status.DEAUTHORIZED.value,
)


# The kinds of what export says (its `export:` comments and warnings), for the summary by kind.
TWINS = "duplicate uid: the entry describes one twin"
SAME_NAME = "untagged companies of one name, adopted as separate customers"
GUESS = "guess: expenses: true for a customer awaiting authorization"
EXPENSES_KEPT = "expenses: true kept: its partner expense connection is Deauthorized"
EXPENSES_FALSE = "expenses: false for a customer awaiting authorization"
KEEP_ACCOUNTING = "several active accounting connections: accounting: {keep: true}"
UNNAMEABLE = "an accounting platform the file cannot name: left as it is"
NAME = "a name the file cannot hold as it is"
DESCRIPTION = "a description with control characters"
TAGS = "a tag the file cannot hold: plan would remove it"
CONFIG = "an expense config not written"
LEFT_OUT = "a company not exported"
GUESS_MARK = "guess: "


class Warned(str):
    """A warning of export (its text as printed) with its kind and subject (a uid, or a
    company id), for the summary by kind."""

    kind: str
    subject: str

    def __new__(cls, value: str, kind: str, subject: str) -> Warned:
        made = super().__new__(cls, value)
        made.kind = kind
        made.subject = subject
        return made


@dataclass
class Entry:
    """One company on its way to becoming a customer."""

    company: Company
    uid: str
    adopt: bool
    accounting: Connection | None = None
    # Several active accounting connections: the file keeps them as they are (`{keep: true}`)
    # rather than choosing one, which would unlink the others.
    keep_accounting: bool = False
    notes: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)  # the kind of each note

    def note(self, kind: str, what: str) -> None:
        self.notes.append(what)
        self.kinds.append(kind)

    @property
    def config_due(self) -> bool:
        conn = self.accounting
        return conn is not None and conn.status == Status.LINKED.value and conn.platform is not None


def twin_rank(company: Company) -> tuple[int, str, str]:
    """Which of the companies sharing a uid the file describes: one with a Linked connection,
    else one awaiting authorization, else any; the oldest among equals (an empty twin is
    usually a create retried by hand, made later)."""
    statuses = {c.status for c in company.connections}
    live = 0 if Status.LINKED.value in statuses else 1 if statuses & set(ACTIVE_STATUSES) else 2
    return live, company.created or "\uffff", company.id


def _is_live(company: Company) -> bool:
    return any(c.status in ACTIVE_STATUSES for c in company.connections)


def describe_company(company: Company) -> str:
    """`ID (created DATE; Linked Xero, Linked Partner Expense)`: enough to tell twins apart."""
    created = f"created {text(company.created)}" if company.created else "creation date unknown"
    held = [f"{c.status} {label(c)}" for c in company.connections if c.status != "Unlinked"]
    return f"{company.id} ({created}; {', '.join(held) or 'no active connections'})"


def note_twins(entry: Entry, twins: list[Company], skip: Callable[[Company, str], None]) -> None:
    kept, others = twins[0], twins[1:]
    uid = entry.uid
    extra = ", ".join(c.id for c in others)
    check = (
        "check in the Codat portal which one the customer uses, then delete the other"
        if any(_is_live(c) for c in others)
        else f"delete {extra} in the Codat portal"
    )
    entry.note(
        TWINS,
        f"{len(twins)} companies carry {UID_TAG}={uid}: this entry is {describe_company(kept)}; "
        f"also {'; '.join(describe_company(c) for c in others)}; plan leaves this customer "
        f"alone until a person resolves it: {check} (or remove its {UID_TAG} tag), or write "
        f"`id: {kept.id}` on this entry",
    )
    for twin in others:
        if _is_live(twin):
            skip(
                twin,
                f"it also carries {UID_TAG}={uid} and holds active connections, like "
                f"{kept.id}: two live companies for one customer; resolve by hand",
            )
        else:
            skip(twin, f"an empty twin of {kept.id} ({UID_TAG}={uid}); check it and delete it")


def note_same_names(adopted: list[Entry]) -> None:
    """Untagged companies of one name are adopted as separate customers, each saying so."""
    by_name: dict[str, list[Entry]] = defaultdict(list)
    for entry in adopted:
        by_name[" ".join(entry.company.name.casefold().split())].append(entry)
    for group in by_name.values():
        if len(group) < 2:
            continue
        for entry in group:
            others = "; ".join(
                f"uid {o.uid}: {describe_company(o.company)}" for o in group if o is not entry
            )
            entry.note(
                SAME_NAME,
                f"{len(group)} untagged companies are named {quoted(entry.company.name)}, "
                f"adopted as separate customers (also {others}); if they are one customer, "
                "keep the entry of the one with live connections and remove the other's "
                "(it then stays in Codat, unmanaged)",
            )


def label(conn: Connection) -> str:
    platform = conn.platform
    return platform.label if platform else text(conn.platform_name or conn.integration_key or "?")


@dataclass(frozen=True)
class FleetHabit:
    """How the exported fleet uses the partner expense connection: of the customers whose
    accounting is Linked, how many also have it Linked."""

    linked: int
    with_expenses: int

    @staticmethod
    def of(entries: Iterable[Entry]) -> FleetHabit:
        linked = [e for e in entries if e.accounting and e.accounting.status == LINKED]
        with_expenses = sum(
            1
            for e in linked
            if any(c.is_partner_expense and c.status == LINKED for c in e.company.connections)
        )
        return FleetHabit(len(linked), with_expenses)

    @property
    def expenses_usual(self) -> bool:
        return self.linked > 0 and 2 * self.with_expenses > self.linked


def expenses_intended(entry: Entry, accounting: Connection, fleet: FleetHabit | None) -> bool:
    """A customer awaiting authorization cannot have the partner expense connection yet (Codat
    creates it once accounting is Linked): keep `expenses: true` when it is clearly intended,
    else say why it is false."""
    shown = label(accounting)
    partner = [c for c in entry.company.connections if c.is_partner_expense]
    if any(c.status == DEAUTHORIZED for c in partner):
        entry.note(
            EXPENSES_KEPT,
            f"expenses: true: its partner expense connection exists (Deauthorized); it is "
            f"created again once the customer authorizes {shown}",
        )
        return True
    if fleet is not None and fleet.expenses_usual and not partner:
        # No fleet-wide count here: the comment must not change when other customers do.
        entry.note(
            GUESS,
            f"{GUESS_MARK}expenses: true: awaiting authorization of {shown}, so no partner "
            "expense connection can exist yet; guessed from this owner's Linked customers, most "
            "of which have one. It is created once the customer authorizes: write false if "
            "this one should not have it",
        )
        return True
    if partner:
        why = "its partner expense connection was unlinked"
    elif fleet is None:
        why = "no partner expense connection exists yet"
    else:
        why = "no partner expense connection exists yet and most Linked customers have none"
    entry.note(
        EXPENSES_FALSE,
        f"expenses: false: awaiting authorization of {shown} and {why}; write `expenses: true` "
        "if it should be created once the customer authorizes",
    )
    return False
