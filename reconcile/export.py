"""`reconcile export`: live Codat -> a desired-state file that plans to no changes.

    companies, configs = await read_for_export(client, owner, adopt=...)   # reconcile.facts
    text, warnings = export_text(owner, companies, configs, adopt=...)    # pure

Costs: one list request per 5,000 companies (filtered on the owner tag; the whole account with
`--adopt`, which needs the untagged companies), plus one expense-config read per exported company
whose accounting connection is Linked, at most ten at once. Everything goes
through the read-only client: export never writes.

What the file cannot say becomes a `# export:` comment at that customer (or, for a company left
out, at the end) and a warning on stderr; the file still validates. If Codat changes while the
export reads, the file describes the list as read (configs as read just after); a plan then
shows the difference, as it would for any edit made behind the tool's back.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from reconcile.desired.dump import dump
from reconcile.escape import quoted, text
from reconcile.export_notes import (
    CONFIG,
    DEAUTHORIZED,
    DESCRIPTION,
    GUESS,
    GUESS_MARK,
    KEEP_ACCOUNTING,
    LEFT_OUT,
    LINKED,
    NAME,
    PENDING,
    TAGS,
    UNNAMEABLE,
    Entry,
    FleetHabit,
    Warned,
    expenses_intended,
    label,
    note_same_names,
    note_twins,
    twin_rank,
)
from reconcile.model import (
    ACTIVE_STATUSES,
    MAX_TAG_KEY,
    MAX_TAG_VALUE,
    MAX_USER_TAGS,
    MAX_USER_TAGS_PROTECTED,
    OWNER_TAG,
    PROTECT_TAG,
    PROTECT_VALUE,
    RESERVED_TAG_PREFIX,
    UID_TAG,
    Company,
    Connection,
    Customer,
    DesiredState,
    ExpenseConfig,
)

UID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
# What the desired-state file accepts in a name (Codat's pattern, a plain space the only blank).
_NAME_EDGE = r"[A-Za-z0-9\-',&@.?!]"
NAME_PATTERN = re.compile(rf"{_NAME_EDGE}(?:[A-Za-z0-9 \-',&@.?!]*{_NAME_EDGE})?")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_NOT_IN_NAME = re.compile(r"[^A-Za-z0-9 \-',&@.?!]")
_SLUG_GAP = re.compile(r"[^a-z0-9]+")
MAX_DERIVED_UID = 56  # room for a "-NNNN" suffix within the 64 a uid may have
_STATUS_RANK = {LINKED: 0, PENDING: 1, DEAUTHORIZED: 2}


@dataclass
class Selection:
    entries: list[Entry]
    left_out: list[str]  # comment lines for the companies not exported
    warnings: list[Warned]


# --------------------------------------------------------------------------- selecting (pure)


def select(owner: str, companies: Sequence[Company], *, adopt: bool) -> Selection:
    """Which companies become customers, with which uid; never another owner's."""
    warnings: list[Warned] = []
    left_out: list[str] = []

    def skip(company: Company, why: str) -> None:
        left_out.append(f"company {company.id} {quoted(company.name)}: {why}")
        said = f"company {company.id} {quoted(company.name)} not exported: {why}"
        warnings.append(Warned(said, LEFT_OUT, company.id))

    managed = sorted((c for c in companies if c.owner == owner), key=lambda c: c.id)
    by_uid: dict[str, list[Company]] = defaultdict(list)
    for company in managed:
        if company.uid is not None:
            by_uid[company.uid].append(company)
    taken: set[str] = {c.uid for c in companies if c.uid is not None}
    entries: list[Entry] = []
    adoptable: list[Company] = []
    for uid, twins in sorted(by_uid.items()):
        if not UID_PATTERN.fullmatch(uid):
            for c in twins:
                skip(c, f"its {UID_TAG} {quoted(uid)} is not a valid uid; plan would offboard it")
            continue
        twins = sorted(twins, key=twin_rank)
        entry = Entry(twins[0], uid, adopt=False)
        if len(twins) > 1:
            note_twins(entry, twins, skip)
        entries.append(entry)
    for company in managed:
        if company.uid is None:
            if adopt:
                adoptable.append(company)
            else:
                skip(company, f"no {UID_TAG} tag; export with --adopt to give it one (id:)")
    if adopt:
        adoptable.extend(c for c in companies if c.owner is None)
    assigned: set[str] = set()
    for company in sorted(adoptable, key=lambda c: (slug(c.name), c.created or "", c.id)):
        tagged = company.uid
        if tagged is not None and not UID_PATTERN.fullmatch(tagged):
            skip(company, f"its {UID_TAG} {quoted(tagged)} is not a valid uid; fix it by hand")
            continue
        if tagged is not None and (tagged in by_uid or tagged in assigned):
            skip(company, f"it carries {UID_TAG}={tagged}, which another company has too")
            continue
        new_uid = tagged or unique_uid(slug(company.name), taken | assigned)
        assigned.add(new_uid)
        entries.append(Entry(company, new_uid, adopt=True))
    note_same_names([e for e in entries if e.adopt and e.company.uid is None])
    for entry in entries:
        entry.accounting = _accounting(entry)
    return Selection(sorted(entries, key=lambda e: e.uid), left_out, warnings)


def slug(name: str) -> str:
    """A uid from a name: lower-case, runs of other characters as one '-'."""
    base = _SLUG_GAP.sub("-", name.lower()).strip("-")[:MAX_DERIVED_UID].strip("-")
    return base or "company"


def unique_uid(base: str, taken: set[str]) -> str:
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def _accounting(entry: Entry) -> Connection | None:
    """The accounting connection the file names: Linked, else PendingAuth, else Deauthorized;
    the newest among equals. Unlinked ones are history."""
    usable = [c for c in entry.company.connections if c.is_accounting and c.status in _STATUS_RANK]
    if not usable:
        return None
    usable.sort(key=lambda c: c.id)
    usable.sort(key=lambda c: c.created, reverse=True)
    usable.sort(key=lambda c: _STATUS_RANK[c.status])
    chosen = usable[0]
    active = [c for c in usable if c.status in ACTIVE_STATUSES]
    if len(active) > 1:
        shown = ", ".join(f"{label(c)} ({c.status})" for c in active)
        entry.keep_accounting = True
        entry.note(
            KEEP_ACCOUNTING,
            f"{len(active)} active accounting connections ({shown}): written as accounting:"
            " {keep: true}, so nothing is unlinked; to keep one, write its platform instead"
            " (the plan then unlinks or deletes the others)",
        )
    if chosen.platform is None:
        entry.note(
            UNNAMEABLE,
            f"accounting connection {label(chosen)} ({chosen.status}) is not a Sync for "
            "Expenses platform the file can name; it is left as it is (reconcile never unlinks"
            " or deletes what the file cannot name)",
        )
        return None
    return chosen


# --------------------------------------------------------------------------- building (pure)


def to_customer(
    entry: Entry, config: ExpenseConfig | None, fleet: FleetHabit | None = None
) -> Customer:
    company = entry.company
    name = company.name
    if not NAME_PATTERN.fullmatch(name):
        name = _NOT_IN_NAME.sub("", re.sub(r"\s", " ", name)).strip() or "Unnamed company"
        entry.note(
            NAME, f"name {quoted(company.name)} cannot be written; written as {quoted(name)}"
        )
    description = company.description or None
    if description and _CONTROL.search(description):
        description = _CONTROL.sub(" ", description)
        entry.note(DESCRIPTION, "the description holds control characters; written as spaces")
    protect = company.protected
    if PROTECT_TAG in company.tags and not protect:
        entry.note(
            TAGS, f"tag {PROTECT_TAG}={text(company.tags[PROTECT_TAG])}: plan would remove it"
        )
    tags = _user_tags(company, protect, entry)
    accounting = entry.accounting
    expenses = any(
        c.is_partner_expense and c.status in ACTIVE_STATUSES for c in company.connections
    )
    if not expenses and accounting is not None and accounting.status == PENDING:
        expenses = expenses_intended(entry, accounting, fleet)
    if config is not None and not all((config.bank_account, config.supplier, config.customer)):
        entry.note(CONFIG, "the expense config is incomplete (an id is missing); not written")
        config = None
    return Customer(
        uid=entry.uid,
        name=name,
        description=description,
        tags=tags,
        accounting=(
            accounting.platform.key
            if accounting and accounting.platform and not entry.keep_accounting
            else None
        ),
        keep_accounting=entry.keep_accounting,
        expenses=expenses,
        expense_config=config if entry.config_due else None,
        id=company.id if entry.adopt else None,
        protect=protect,
    )


def _user_tags(company: Company, protect: bool, entry: Entry) -> dict[str, str]:
    limit = MAX_USER_TAGS_PROTECTED if protect else MAX_USER_TAGS
    tags: dict[str, str] = {}
    for key, value in sorted(company.tags.items()):
        if key in (OWNER_TAG, UID_TAG) or (key == PROTECT_TAG and value == PROTECT_VALUE):
            continue
        if key == PROTECT_TAG:
            continue  # said above
        shown = f"{text(key)}={text(value)}"
        if key.startswith(RESERVED_TAG_PREFIX):
            entry.note(TAGS, f"tag {shown} is reserved for reconcile; plan would remove it")
        elif _CONTROL.search(key + value) or not 1 <= len(key) <= MAX_TAG_KEY:
            entry.note(TAGS, f"tag {shown} cannot be written; plan would remove it")
        elif len(value) > MAX_TAG_VALUE:
            entry.note(
                TAGS, f"tag {text(key)} has a value over {MAX_TAG_VALUE} characters; left out"
            )
        elif len(tags) >= limit:
            entry.note(TAGS, f"tag {shown}: more than {limit} user tags fit; plan would remove it")
        else:
            tags[key] = value
    return tags


def export_text(
    owner: str, selection: Selection, configs: dict[str, ExpenseConfig | None], *, adopt: bool
) -> tuple[str, list[Warned]]:
    """The file and the warnings (one per comment, then one saying what guesses rest on), both
    in a stable order. No comment holds a fleet-wide count: a comment changes only when its own
    customer does."""
    fleet = FleetHabit.of(selection.entries)
    customers = [to_customer(e, configs.get(e.company.id), fleet) for e in selection.entries]
    comments = {e.uid: [f"export: {n}" for n in e.notes] for e in selection.entries if e.notes}
    warnings = [
        Warned(f"{e.uid} (company {e.company.id}): {n}", kind, e.uid)
        for e in selection.entries
        for n, kind in zip(e.notes, e.kinds, strict=True)
    ] + selection.warnings
    guessed = sum(1 for w in warnings if w.kind == GUESS)
    if guessed:
        warnings.append(
            Warned(
                f"expenses: true was guessed for {guessed} customer(s) awaiting authorization, "
                f"because {fleet.with_expenses} of the {fleet.linked} Linked customers exported "
                "have the partner expense connection; each is marked "
                f"`export: {GUESS_MARK.rstrip()}` in the file: review them",
                GUESS,
                FLEET,
            )
        )
    adopted = sum(1 for e in selection.entries if e.adopt)
    command = f"reconcile export --owner {owner}" + (" --adopt" if adopt else "")
    to_adopt = f", {adopted} of them to adopt (id:)" if adopted else ""
    header = [
        f"Exported from Codat by `{command}`: {len(customers)} customers{to_adopt}.",
        "Review the `export:` comments (what this file cannot say) before committing.",
    ]
    if guessed:
        header.append(
            "Values the live fleet cannot tell are guesses, marked "
            f"`export: {GUESS_MARK.rstrip()}`: confirm or change each."
        )
    footer = _footer(selection.left_out)
    state = DesiredState(owner, tuple(customers))
    return dump(state, comments=comments, header=header, footer=footer), warnings


FLEET = "the fleet"  # the subject of a warning about the whole export (what a guess rests on)


def summary_by_kind(warnings: Iterable[Warned], examples: int = 3) -> list[str]:
    """One line per kind of warning, most frequent first: the count, the first few subjects,
    and what the kind rests on fleet-wide (said once here, never in a customer's comment)."""
    by_kind: dict[str, list[Warned]] = defaultdict(list)
    for warning in warnings:
        by_kind[warning.kind].append(warning)
    lines = []
    for kind, said in sorted(by_kind.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        listed = list(dict.fromkeys(w.subject for w in said if w.subject != FLEET))
        more = f" and {len(listed) - examples} more" if len(listed) > examples else ""
        shown = ", ".join(text(s) for s in listed[:examples])
        line = f"{len(listed) or len(said):6d}  {kind}" + (
            f" (e.g. {shown}{more})" if shown else ""
        )
        lines.append(line)
        lines.extend(f"        {w}" for w in said if w.subject == FLEET)
    return lines


def _footer(left_out: Iterable[str]) -> list[str]:
    lines = list(left_out)
    if not lines:
        return []
    return ["export: not exported:", *(f"  {line}" for line in lines)]
