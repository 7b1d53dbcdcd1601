"""The reconciliation rules (DESIGN §5), as one pure function: (desired, live, options) -> Plan.

No I/O, no click, no httpx: everything the planner needs is in its arguments.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from reconcile.model import (
    PARTNER_EXPENSE_NAME,
    PLATFORMS_BY_KEY,
    Company,
    Connection,
    Customer,
    DesiredState,
    ExpenseConfig,
    LiveState,
    Platform,
    Status,
)
from reconcile.plan import (
    COMPANY_PLACEHOLDER,
    Action,
    CustomerChange,
    CustomerVerdict,
    Kind,
    Note,
    NoteKind,
    Plan,
    Refusal,
    Request,
    derive_key,
    fingerprint,
)

DESTROY_ABSOLUTE_THRESHOLD = 10
DESTROY_FRACTION_THRESHOLD = 0.25


@dataclass(frozen=True)
class PlanOptions:
    allow_delete: bool = False
    allow_empty: bool = False
    max_destroy: int | None = None
    targets: frozenset[str] = field(default_factory=frozenset)


class UnsafePlan(Exception):
    """The plan is refused as a whole; the message says why and which flag allows it."""


def make_plan(desired: DesiredState, live: LiveState, options: PlanOptions | None = None) -> Plan:
    options = options or PlanOptions()
    return _Planner(desired, live, options).run()


def active_connections(companies: Iterable[Company]) -> int:
    return sum(
        1
        for company in companies
        for c in company.connections
        if c.status in (Status.LINKED.value, Status.PENDING_AUTH.value)
    )


class _Planner:
    def __init__(self, desired: DesiredState, live: LiveState, options: PlanOptions) -> None:
        self.owner = desired.owner
        self.desired = desired
        self.live = live
        self.options = options
        self.changes: list[CustomerChange] = []
        self.notes: list[Note] = []
        self.refused: list[Refusal] = []
        self.warnings: list[str] = list(live.warnings)
        self.observed: dict[str, str] = {}
        self.managed = [c for c in live.companies if c.owner == self.owner]
        self.by_uid: dict[str, list[Company]] = defaultdict(list)
        for company in self.managed:
            if company.uid is not None:
                self.by_uid[company.uid].append(company)
            else:
                self.warnings.append(
                    f'company {company.id} "{company.name}" is tagged reconcile.owner='
                    f"{self.owner} but has no reconcile.uid tag; left alone"
                )
        self.by_id = {c.id: c for c in live.companies}

    # ------------------------------------------------------------------ driver

    def run(self) -> Plan:
        if not self.desired.customers and self.managed and not self.options.allow_empty:
            raise UnsafePlan(
                f"the input lists no customers but owner {self.owner} has "
                f"{len(self.managed)} live companies: applying it would offboard all of them. "
                "If that is what you want, pass --allow-empty."
            )
        desired_uids = {c.uid for c in self.desired.customers}
        claimed: set[str] = set()
        for customer in self.desired.customers:
            if not self._targeted(customer.uid):
                continue
            company = self._match(customer)
            if company is _SKIP:
                continue
            if company is not None:
                claimed.add(company.id)
            self._customer(customer, company)
        for company in self.managed:
            uid = company.uid
            if uid is None or uid in desired_uids or company.id in claimed:
                continue
            if not self._targeted(uid):
                continue
            twins = self.by_uid[uid]
            if len(twins) > 1:
                if company is twins[0]:
                    ids = ", ".join(t.id for t in twins)
                    self.refused.append(
                        Refusal(
                            uid,
                            company.name,
                            "offboarding",
                            f"duplicate: companies {ids} all carry reconcile.uid={uid}; "
                            "nothing is unlinked until a person resolves it",
                        )
                    )
                continue
            self._offboard(uid, company.name, company, protect=False, why="not in the file")
        plan = Plan(
            owner=self.owner,
            changes=tuple(self.changes),
            notes=tuple(self.notes),
            refused=tuple(self.refused),
            warnings=tuple(self.warnings),
            observed=self.observed,
            observed_at=self.live.read_at,
        )
        self._check_destroy(plan)
        return plan

    def _targeted(self, uid: str) -> bool:
        return not self.options.targets or uid in self.options.targets

    def _check_destroy(self, plan: Plan) -> None:
        destroy = sum(1 for a in plan.actions if a.kind.destructive)
        active = active_connections(self.managed)
        too_many = (
            destroy > DESTROY_ABSOLUTE_THRESHOLD and destroy > DESTROY_FRACTION_THRESHOLD * active
        )
        allowed = self.options.max_destroy is not None and destroy <= self.options.max_destroy
        if too_many and not allowed:
            raise UnsafePlan(
                f"the plan would unlink or delete {destroy} connections/companies, more than "
                f"{DESTROY_ABSOLUTE_THRESHOLD} and more than "
                f"{int(DESTROY_FRACTION_THRESHOLD * 100)}% of the owner's {active} active "
                f"connections. Check the input; if this is intended, pass --max-destroy {destroy}."
            )

    # ------------------------------------------------------------------ identity

    def _match(self, customer: Customer) -> Company | None:
        """The live company of a customer, or None; refusals for ambiguous identity."""
        matches = self.by_uid.get(customer.uid, [])
        if customer.id is not None:
            adopted = self.by_id.get(customer.id)
            if adopted is None:
                self._refuse(
                    customer, "company", f"id {customer.id} names no Codat company; fix the id"
                )
                return _SKIP
            if adopted.owner not in (None, self.owner):
                self._refuse(
                    customer,
                    "company",
                    f"company {adopted.id} is tagged reconcile.owner={adopted.owner}; "
                    "it is never taken over",
                )
                return _SKIP
            if adopted.uid not in (None, customer.uid):
                self._refuse(
                    customer,
                    "company",
                    f"company {adopted.id} already carries reconcile.uid={adopted.uid}",
                )
                return _SKIP
            others = [m.id for m in matches if m.id != adopted.id]
            if others:
                self._refuse(
                    customer,
                    "company",
                    f"duplicate: {', '.join(others)} also carries reconcile.uid={customer.uid} "
                    f"besides adopted {adopted.id}; resolve by hand",
                )
                return _SKIP
            return adopted
        if len(matches) > 1:
            ids = ", ".join(m.id for m in matches)
            self._refuse(
                customer,
                "company",
                f"duplicate: companies {ids} all carry reconcile.uid={customer.uid}; "
                "this customer is not touched until a person resolves it",
            )
            return _SKIP
        return matches[0] if matches else None

    def _refuse(self, customer: Customer, subject: str, reason: str) -> None:
        self.refused.append(Refusal(customer.uid, customer.name, subject, reason))

    # ------------------------------------------------------------------ one customer

    def _customer(self, customer: Customer, company: Company | None) -> None:
        if company is not None:
            self.observed[company.id] = fingerprint(company)
        if customer.state != "present" and company is not None and company.owner != self.owner:
            self._refuse(
                customer,
                f"company {company.id}",
                f"state: {customer.state} acts only on companies this owner manages; this one "
                "is not tagged yet (adopt it first with state: present)",
            )
            return
        if customer.state == "deleted":
            self._delete(customer, company)
        elif customer.state == "absent":
            if company is not None:
                self._offboard(
                    customer.uid, customer.name, company, customer.protect, "state: absent"
                )
        else:
            self._present(customer, company)

    def _present(self, customer: Customer, company: Company | None) -> None:
        """Company, then accounting, then partner expense, then config: the order of apply."""
        actions: list[Action] = []
        if company is None:
            actions.append(self._create_company(customer))
        else:
            update = self._update_company(customer, company)
            if update:
                actions.append(update)
        cid = company.id if company else None
        connections = company.connections if company else ()
        platform = PLATFORMS_BY_KEY[customer.accounting] if customer.accounting else None
        linked = self._accounting(customer, cid, connections, platform, actions)
        self._partner_expense(customer, cid, connections, platform, linked, actions)
        self._expense_config(customer, company, platform, linked, actions)
        verdict: CustomerVerdict = "create" if company is None else "update"
        self._add_change(customer.uid, customer.name, verdict, cid, actions)

    def _accounting(
        self,
        customer: Customer,
        cid: str | None,
        connections: tuple[Connection, ...],
        platform: Platform | None,
        actions: list[Action],
    ) -> bool:
        """Retire other platforms' connections, then make sure one of the wanted platform
        exists; returns whether the wanted platform is Linked."""
        accounting = [c for c in connections if c.is_accounting and c.status != "Unlinked"]
        wanted = [c for c in accounting if platform is not None and c.platform == platform]
        why_other = f"platform changed to {platform.label}" if platform else "no accounting wanted"
        blocking = False  # an active other connection stays: P cannot be created (one active)
        for q in accounting:
            if q in wanted:
                continue
            retired = self._retire(customer, cid, q, why_other)
            actions.extend(retired)
            blocking |= not retired and q.status in _ACTIVE
        if platform is None or any(c.status == Status.LINKED.value for c in wanted):
            return platform is not None
        pending = [c for c in wanted if c.status == Status.PENDING_AUTH.value]
        deauthorized = [c for c in wanted if c.status == Status.DEAUTHORIZED.value]
        if pending:
            self._note(
                "awaiting_authorization",
                customer,
                platform.label,
                "awaiting customer authorization",
                pending[0],
            )
        elif deauthorized:
            self._note(
                "needs_reauthorization",
                customer,
                platform.label,
                "deauthorized; the customer must authorize again",
                deauthorized[0],
            )
        elif blocking:
            self._refuse(
                customer,
                f"accounting connection {platform.label}",
                "not created: the current accounting connection stays (protect: true) and "
                "a company has one active accounting connection",
            )
        else:
            actions.append(self._create_connection(customer, cid, platform.key, connections))
        return False

    def _partner_expense(
        self,
        customer: Customer,
        cid: str | None,
        connections: tuple[Connection, ...],
        platform: Platform | None,
        accounting_linked: bool,
        actions: list[Action],
    ) -> None:
        linked = [c for c in connections if c.is_partner_expense and c.status == "Linked"]
        if customer.expenses and not linked:
            if platform is None or accounting_linked:
                actions.append(self._create_partner_expense(customer, cid, connections))
            else:
                self._defer(customer, "partner expense connection", platform)
        elif not customer.expenses:
            for c in linked:
                actions.extend(self._retire(customer, cid, c, "expenses: false"))

    def _expense_config(
        self,
        customer: Customer,
        company: Company | None,
        platform: Platform | None,
        accounting_linked: bool,
        actions: list[Action],
    ) -> None:
        if customer.expense_config is None or platform is None:
            return
        if not accounting_linked or company is None:
            self._defer(customer, "expense config", platform)
            return
        if company.id not in self.live.expense_configs:
            return  # unreadable this run: the live state's warning says so
        live_config = self.live.expense_configs[company.id]
        if live_config != customer.expense_config:
            actions.append(self._set_config(customer, company.id, live_config))

    def _defer(self, customer: Customer, subject: str, platform: Platform) -> None:
        self.notes.append(
            Note(
                "deferred",
                customer.uid,
                customer.name,
                subject,
                f"deferred until {platform.name} is authorized",
            )
        )

    def _offboard(self, uid: str, name: str, company: Company, protect: bool, why: str) -> None:
        self.observed[company.id] = fingerprint(company)
        actions: list[Action] = []
        for c in company.connections:
            if c.status not in (Status.LINKED.value, Status.PENDING_AUTH.value):
                continue
            action = self._retire_action(uid, company.id, c, f"offboarding: {why}")
            if protect:
                self.refused.append(
                    Refusal(uid, name, action.subject, "protect: true forbids unlink and delete")
                )
            else:
                actions.append(action)
        self._add_change(uid, name, "offboard", company.id, actions)

    def _delete(self, customer: Customer, company: Company | None) -> None:
        if company is None:
            return
        subject = f'company {company.id} "{company.name}"'
        if customer.protect:
            self._refuse(customer, subject, "protect: true forbids deleting the company")
            return
        if not self.options.allow_delete:
            self._refuse(
                customer, subject, "state: deleted needs --allow-delete to delete a company"
            )
            return
        action = Action(
            Kind.DELETE_COMPANY,
            customer.uid,
            company.id,
            "company",
            "state: deleted",
            Request("DELETE", f"/companies/{company.id}"),
            before=_company_view(company.name, company.description, company.tags),
        )
        self._add_change(customer.uid, customer.name, "delete", company.id, [action])

    def _add_change(
        self,
        uid: str,
        name: str,
        verdict: CustomerVerdict,
        cid: str | None,
        actions: list[Action],
    ) -> None:
        if actions:
            self.changes.append(CustomerChange(uid, name, verdict, cid, tuple(actions)))

    def _note(
        self, kind: NoteKind, customer: Customer, subject: str, text: str, conn: Connection
    ) -> None:
        self.notes.append(
            Note(
                kind,
                customer.uid,
                customer.name,
                subject,
                text,
                conn.link_url,
                conn.created,
            )
        )

    # ------------------------------------------------------------------ actions

    def _create_company(self, customer: Customer) -> Action:
        body: dict[str, object] = {"name": customer.name}
        if customer.description:
            body["description"] = customer.description
        body["tags"] = dict(customer.ownership_tags(self.owner))
        return Action(
            Kind.CREATE_COMPANY,
            customer.uid,
            None,
            "company",
            f"no company with reconcile.uid={customer.uid}",
            Request("POST", "/companies", body),
            idempotency_key=derive_key(self.owner, customer.uid, "create_company", body),
            after=_company_view(customer.name, customer.description, customer.tags),
        )

    def _update_company(self, customer: Customer, company: Company) -> Action | None:
        tags = customer.ownership_tags(self.owner)
        before = _company_view(company.name, company.description, company.tags)
        after = _company_view(customer.name, customer.description, tags)
        if before == after:
            return None
        body: dict[str, object] = {
            "name": customer.name,
            "description": customer.description or "",
            "tags": dict(tags),
        }
        adopting = company.owner is None
        reason = "adopting: adds the ownership tags" if adopting else "differs from the file"
        return Action(
            Kind.UPDATE_COMPANY,
            customer.uid,
            company.id,
            "company",
            reason,
            Request("PUT", f"/companies/{company.id}", body),
            before=before,
            after=after,
        )

    def _retire(
        self, customer: Customer, cid: str | None, conn: Connection, why: str
    ) -> list[Action]:
        if conn.status not in (Status.LINKED.value, Status.PENDING_AUTH.value) or cid is None:
            return []
        action = self._retire_action(customer.uid, cid, conn, why)
        if customer.protect:
            self._refuse(customer, action.subject, "protect: true forbids unlink and delete")
            return []
        return [action]

    def _retire_action(self, uid: str, cid: str, conn: Connection, why: str) -> Action:
        """Unlink a Linked connection; delete a PendingAuth one (an abandoned link holds
        nothing)."""
        subject = _connection_subject(conn)
        path = f"/companies/{cid}/connections/{conn.id}"
        if conn.status == Status.LINKED.value:
            return Action(
                Kind.UNLINK_CONNECTION,
                uid,
                cid,
                subject,
                why,
                Request("PATCH", path, {"status": "Unlinked"}),
                idempotency_key=derive_key(self.owner, uid, "unlink", cid, conn.id, conn.status),
                connection_id=conn.id,
                status=conn.status,
            )
        return Action(
            Kind.DELETE_CONNECTION,
            uid,
            cid,
            subject,
            why,
            Request("DELETE", path),
            connection_id=conn.id,
            status=conn.status,
        )

    def _create_connection(
        self,
        customer: Customer,
        cid: str | None,
        key: str,
        connections: tuple[Connection, ...],
    ) -> Action:
        platform = PLATFORMS_BY_KEY[key]
        return Action(
            Kind.CREATE_CONNECTION,
            customer.uid,
            cid,
            f"accounting connection {platform.label}",
            f"no usable {platform.name} connection",
            Request(
                "POST", f"/companies/{cid or COMPANY_PLACEHOLDER}/connections", {"platformKey": key}
            ),
            idempotency_key=derive_key(
                self.owner, customer.uid, "create_connection", cid, key, _seen(connections)
            ),
            after={"platformKey": key},
        )

    def _create_partner_expense(
        self, customer: Customer, cid: str | None, connections: tuple[Connection, ...]
    ) -> Action:
        path = f"/companies/{cid or COMPANY_PLACEHOLDER}/sync/expenses/connections/partnerExpense"
        return Action(
            Kind.CREATE_PARTNER_EXPENSE,
            customer.uid,
            cid,
            "partner expense connection",
            "expenses: true and no Linked partner expense connection",
            Request("POST", path),
            idempotency_key=derive_key(
                self.owner, customer.uid, "create_partner_expense", cid, _seen(connections)
            ),
        )

    def _set_config(self, customer: Customer, cid: str, live: ExpenseConfig | None) -> Action:
        assert customer.expense_config is not None
        body = customer.expense_config.to_wire()
        return Action(
            Kind.SET_EXPENSE_CONFIG,
            customer.uid,
            cid,
            "expense config",
            "no expense config yet" if live is None else "expense config differs from the file",
            Request("POST", f"/companies/{cid}/sync/expenses/config", body),
            idempotency_key=derive_key(
                self.owner,
                customer.uid,
                "set_expense_config",
                cid,
                body,
                live.to_wire() if live else None,
            ),
            before=live.to_wire() if live else None,
            after=body,
        )


_ACTIVE = (Status.LINKED.value, Status.PENDING_AUTH.value)

# A sentinel Company meaning "identity is ambiguous or refused: do not touch this customer".
_SKIP = Company(id="", name="", description=None, tags={})


def _company_view(name: str, description: str | None, tags: Mapping[str, str]) -> dict[str, object]:
    return {"name": name, "description": description or "", "tags": dict(sorted(tags.items()))}


def _connection_subject(conn: Connection) -> str:
    if conn.is_partner_expense:
        return "partner expense connection"
    platform = conn.platform
    label = platform.label if platform else conn.platform_name or PARTNER_EXPENSE_NAME
    return f"{conn.source_type.lower()} connection {label}"


def _seen(connections: tuple[Connection, ...]) -> list[tuple[str, str]]:
    return sorted((c.id, c.status) for c in connections)
