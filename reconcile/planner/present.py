"""A customer that should exist: company, then accounting, then partner expense, then config.

That is also the order apply runs them in. Protection (`protect: true` in the file, or the
`reconcile.protect=true` tag on the company) refuses every unlink and delete; a deferred step
that such a refusal blocks forever is shown as blocked, not deferred.
"""

from __future__ import annotations

from reconcile.model import (
    MAX_TAGS,
    OWNER_TAG,
    PLATFORMS_BY_KEY,
    PROTECT_TAG,
    PROTECT_VALUE,
    UID_TAG,
    Company,
    Connection,
    Customer,
    LiveState,
    Platform,
    Status,
)
from reconcile.planner import actions as build
from reconcile.planner import happened
from reconcile.planner.connections import partner_linked, sort_accounting
from reconcile.planner.identity import Match
from reconcile.planner.names import resolve_names
from reconcile.planner.options import Draft
from reconcile.planner.protection import Protection
from reconcile.planner.records import missing_records
from reconcile.plans import REFRESH_HELD, Action, CustomerVerdict

# The statuses compared for every customer, as plain strings (an enum member's `.value` is a
# descriptor call each time).
LINKED, PENDING_AUTH = Status.LINKED.value, Status.PENDING_AUTH.value


def wanted_tags(owner: str, customer: Customer, company: Company | None) -> dict[str, str]:
    """The full tag map: the file's tags, ownership, and protection (kept unless the file says
    `protect: false`, so a lost `protect: true` line never unprotects a customer)."""
    tags = customer.ownership_tags(owner)
    if company is not None and company.protected and not customer.unprotect:
        tags[PROTECT_TAG] = PROTECT_VALUE
    return tags


class Present:
    def __init__(
        self, owner: str, live: LiveState, draft: Draft, existed: frozenset[str] = frozenset()
    ) -> None:
        self.owner = owner
        self.live = live
        self.draft = draft
        self.existed = existed
        self.refresh_due = live.refresh_due
        self.refresh_held = live.refresh_held

    def plan(self, customer: Customer, match: Match) -> None:
        """The customer's actions, notes and refusals. Protection is looked up only when
        something would be unlinked or deleted (`_retire`, `_accounting`)."""
        company = match.company
        actions: list[Action] = []
        if company is None:
            why = happened.company_gone(customer, self.existed)
            actions.append(build.create_company(self.owner, customer, why))
            cid = None
            connections: tuple[Connection, ...] = ()
        else:
            self.draft.observe(company)
            update = self._update(customer, company, match)
            if update is not None:
                actions.append(update)
            cid = company.id
            connections = company.connections
        platform = PLATFORMS_BY_KEY[customer.accounting] if customer.accounting else None
        linked, blocked = self._accounting(customer, company, connections, platform, actions)
        if customer.keep_accounting:
            pending = not linked and any(c.is_accounting and c.active for c in connections)
            if not pending:  # a pending kept connection: both wait (noted by `_kept`)
                self._partner_expense(customer, company, connections, None, True, False, actions)
                platform = _linked_platform(connections)
                if platform is not None:
                    self._expense_config(customer, company, platform, True, False, actions)
        else:
            self._partner_expense(
                customer, company, connections, platform, linked, blocked, actions
            )
            if customer.expense_config is not None:
                self._expense_config(customer, company, platform, linked, blocked, actions)
        if cid is not None and (self.refresh_due or self.refresh_held):
            self._refresh(customer, cid, actions)
        if actions:
            verdict: CustomerVerdict = "create" if company is None else "update"
            self.draft.change(customer.uid, customer.name, verdict, cid, actions)

    def _refresh(self, customer: Customer, cid: str, actions: list[Action]) -> None:
        """A refresh of the company's data the health read found due, or why it waits (the
        health reads of converge, the watch and the audit; never `plan`'s)."""
        if cid in self.refresh_due:
            actions.append(build.refresh_data(self.owner, customer, cid, self.refresh_due[cid]))
        elif cid in self.refresh_held:
            held = self.refresh_held[cid]
            self.draft.note("deferred", customer, REFRESH_HELD, f"not refreshed: {held}")

    # ------------------------------------------------------------------ company

    def _update(self, customer: Customer, company: Company, match: Match) -> Action | None:
        tags = wanted_tags(self.owner, customer, company)
        if len(tags) > MAX_TAGS:
            self.draft.refuse_customer(
                customer,
                f"company {company.id}",
                f"not updated: it keeps {PROTECT_TAG}={PROTECT_VALUE}, which leaves room for 7 "
                f"user tags and the file has {len(customer.tags)}; set protect: true (at most 7 "
                "tags) or protect: false",
            )
            return None
        if build.unchanged(customer, company, tags):  # the usual case: no reason is written
            return None
        return build.update_company(
            customer, company, tags, self._reason(customer, company, tags, match)
        )

    def _reason(
        self, customer: Customer, company: Company, tags: dict[str, str], match: Match
    ) -> str:
        if match.moved_from is not None:
            return (
                f"moved: retags the company {UID_TAG}={match.moved_from} -> {customer.uid} "
                "(the file's moved entry); creates nothing, unlinks nothing"
                + _also(customer, company, {**tags, UID_TAG: match.moved_from})
            )
        if match.readopt:
            return (
                f"re-adopting: the company carries reconcile.uid={customer.uid} but lost its "
                f"{OWNER_TAG} tag; restores it" + _also(customer, company, tags)
            )
        if company.owner is None:
            return "adopting: adds the ownership tags" + _also(customer, company, tags)
        return "differs from the file"

    # ------------------------------------------------------------------ accounting

    def _accounting(
        self,
        customer: Customer,
        company: Company | None,
        connections: tuple[Connection, ...],
        platform: Platform | None,
        actions: list[Action],
    ) -> tuple[bool, bool]:
        """Retire other platforms' connections, then make sure one of the wanted platform
        exists. Returns (wanted platform Linked, wanted platform blocked for good)."""
        if customer.keep_accounting:
            return self._kept(customer, connections), False
        accounting, unnamed, wanted, deauthorized = sort_accounting(connections, platform)
        stays = False  # an active other connection stays: P cannot be created (one active)
        if unnamed and platform is not None and not wanted:
            held = unnamed[0]
            self.draft.refuse_customer(
                customer,
                f"accounting connection {platform.label}",
                f"not created: the company's active accounting connection is {held.status} "
                f"{build.connection_subject(held)}, a platform the file cannot name, which this "
                "tool never unlinks; a company has one active accounting connection. Unlink it "
                "in Codat to move to the file's platform, or write accounting: {keep: true}",
            )
            return False, True
        for other in accounting:
            if other in wanted:
                continue
            why = f"platform changed to {platform.label}" if platform else "no accounting wanted"
            retired = self._retire(customer, company, other, why)
            actions.extend(retired)
            stays |= not retired
        if platform is None:
            # No accounting wanted; a pending one that must stay (protected) still blocks the
            # partner expense connection (Codat refuses it while accounting awaits auth).
            return False, any(
                c.status == PENDING_AUTH for c in accounting if c not in wanted
            ) and stays
        pending: Connection | None = None  # the first PendingAuth of the wanted platform
        for c in wanted:
            if c.status == LINKED:
                return True, False
            if pending is None and c.status == PENDING_AUTH:
                pending = c
        if pending is not None:
            self.draft.note(
                "awaiting_authorization",
                customer,
                platform.label,
                "awaiting customer authorization",
                pending,
            )
        elif deauthorized:
            conn = deauthorized[0]
            self.draft.note(
                "needs_reauthorization",
                customer,
                platform.label,
                "deauthorized; the customer must authorize again" + happened.since_why(conn),
                conn,
                since=conn.changed_on,
            )
        elif stays:
            self.draft.refuse_customer(
                customer,
                f"accounting connection {platform.label}",
                "not created: the current accounting connection stays "
                f"({Protection.of(customer, company).reason}) "
                "and a company has one active accounting connection",
            )
            return False, True
        else:
            cid = company.id if company is not None else None
            actions.append(
                build.create_connection(
                    self.owner,
                    customer,
                    cid,
                    platform.key,
                    connections,
                    *happened.connection_gone(
                        platform,
                        connections,
                        cid is not None and self.live.expense_configs.get(cid) is not None,
                    ),
                )
            )
        return False, False

    def _kept(self, customer: Customer, connections: tuple[Connection, ...]) -> bool:
        """`accounting: {keep: true}`: nothing is retired or created. Returns whether the kept
        connection is Linked; a pending one defers what waits for accounting."""
        active = [c for c in connections if c.is_accounting and c.active]
        if any(c.status == LINKED for c in active):
            return True
        if active:
            label = build.connection_subject(active[0])
            waiting = ["partner expense connection"] if customer.expenses else []
            waiting += ["expense config"] if customer.expense_config else []
            for subject in waiting:
                self.draft.note(
                    "deferred", customer, subject, f"deferred until the kept {label} is authorized"
                )
        return False

    def _retire(
        self, customer: Customer, company: Company | None, conn: Connection, why: str
    ) -> list[Action]:
        if not conn.active or company is None:
            return []
        action = build.retire_connection(self.owner, customer.uid, company.id, conn, why)
        protection = Protection.of(customer, company)
        if protection.active:
            self.draft.refuse_customer(customer, action.subject, protection.reason)
            return []
        return [action]

    # ------------------------------------------------------------------ partner expense, config

    def _partner_expense(
        self,
        customer: Customer,
        company: Company | None,
        connections: tuple[Connection, ...],
        platform: Platform | None,
        accounting_linked: bool,
        blocked: bool,
        actions: list[Action],
    ) -> None:
        if not customer.expenses:
            for c in connections:
                if c.status == LINKED and c.is_partner_expense:
                    actions.extend(self._retire(customer, company, c, "expenses: false"))
            return
        if partner_linked(connections):
            return
        if blocked and platform is None:
            self.draft.note(
                "blocked",
                customer,
                "partner expense connection",
                "blocked: a pending accounting connection stays (see Refused) and Codat "
                "refuses the partner expense connection while accounting awaits authorization",
            )
        elif platform is None or accounting_linked:
            cid = company.id if company is not None else None
            actions.append(
                build.create_partner_expense(
                    self.owner, customer, cid, connections, *happened.partner_gone(connections)
                )
            )
        else:
            self._wait(customer, "partner expense connection", platform, blocked)

    def _expense_config(
        self,
        customer: Customer,
        company: Company | None,
        platform: Platform | None,
        accounting_linked: bool,
        blocked: bool,
        actions: list[Action],
    ) -> None:
        wanted = customer.expense_config
        if wanted is None or platform is None:
            return
        if not accounting_linked or company is None:
            self._wait(customer, "expense config", platform, blocked)
            return
        if company.id not in self.live.expense_configs:
            return  # unreadable this run: the live state's warning says so
        live_config = self.live.expense_configs[company.id]
        if live_config == wanted:
            return
        options = self.live.mapping_options.get(company.id)
        if options is None:
            return  # unreadable this run: the live state's warning says so
        wanted, resolved, unresolved = resolve_names(wanted, options)
        if unresolved is not None:
            self.draft.refuse_customer(customer, "expense config", unresolved)
            return
        if resolved and live_config == wanted:
            return  # the names resolve to the config already set
        valid = {o.id: o.name for o in options.bank_accounts}
        if wanted.bank_account not in valid:
            choices = ", ".join(f'{i} "{n}"' for i, n in sorted(valid.items())) or "none"
            self.draft.refuse_customer(
                customer,
                "expense config",
                f"bankAccount {wanted.bank_account} is not a bank account of this company in "
                f"{platform.name}; valid choices: {choices}",
            )
            return
        missing = missing_records(wanted, options, company.id, platform.name)
        if missing:
            self.draft.refuse_customer(customer, "expense config", missing)
            return
        actions.append(
            build.set_expense_config(
                self.owner, customer, company.id, live_config, options, wanted, resolved
            )
        )

    def _wait(self, customer: Customer, subject: str, platform: Platform, blocked: bool) -> None:
        if blocked:
            self.draft.note(
                "blocked",
                customer,
                subject,
                f"blocked: {platform.name} cannot be connected while the current accounting "
                "connection stays (see Refused)",
            )
        else:
            self.draft.note(
                "deferred", customer, subject, f"deferred until {platform.name} is authorized"
            )


def _linked_platform(connections: tuple[Connection, ...]) -> Platform | None:
    """The Sync for Expenses platform of the company's Linked accounting connection."""
    for c in connections:
        if c.is_accounting and c.status == LINKED and c.platform is not None:
            return c.platform
    return None


def _also(customer: Customer, company: Company, tags: dict[str, str]) -> str:
    """What else an adoption changes, said in its reason (the company's own data is replaced
    by the file's)."""
    parts: list[str] = []
    if company.name != customer.name:
        parts.append("renames it")
    if (company.description or "") != (customer.description or ""):
        parts.append(
            "removes its description" if not customer.description else "replaces its description"
        )
    removed = sorted(k for k in company.tags if k not in tags)
    changed = sorted(k for k in company.tags if k in tags and company.tags[k] != tags[k])
    if removed:
        parts.append("removes tags " + ", ".join(removed))
    if changed:
        parts.append("changes tags " + ", ".join(changed))
    return "; also " + ", ".join(parts) if parts else ""
