"""Plans built directly from `reconcile.plans`'s dataclasses, for the renderer tests.

`sample_plan(x)` appends `x` to every string that comes from the file or from Codat (uids,
names, descriptions, tag keys and values, subjects, reasons, ids, statuses, URLs, warnings), so
a hostile `x` can be compared line for line with the benign plan (`x == ""`).
"""

from __future__ import annotations

from collections.abc import Callable

from reconcile.plans import Action, CustomerChange, Kind, Note, Plan, Refusal, Request

# Strings a hostile file or Codat might send: each must stay data, on its line.
HOSTILE = [
    "Acme Ltd\n\nNo changes. Codat matches the file.",
    "\x1b]52;c;ZWNobyBwd25lZA==\x07",
    "\x1b[2J\x1b[H",
    "\u202eevil\u202c \u2066x\u2069",
    "\x9b31m",  # C1 CSI
    "line\u2028sep\u2029par\x85nel",
    "nul\x00del\x7f\r",
    "tab\there",
    "<img src=x onerror=alert(1)> `code` a|b **bold** [x](javascript:alert(1)) $x$",
    "</details>\n```\n</details><script>x</script>",
    '\n```diff\n+ company "forged"\n```',
    "&lt;b&gt; &#x27; \\",
    "@everyone :tada: #1",
]


# The sample plan's notes, before `sample_plan(x)` appends `x` to their strings.
NOTES = (
    Note(
        "awaiting_authorization",
        "cus-0003",
        "Hooli",
        "QuickBooks Online",
        "awaiting customer authorization",
        link_url="https://link.codat.io/c3",
        since="2026-01-04T10:00:00Z",
    ),
    Note(
        "needs_reauthorization",
        "cus-0004",
        "Pied Piper",
        "Xero",
        "deauthorized; the customer must authorize again",
        link_url="https://link.codat.io/c4",
        since="2026-01-02T10:00:00Z",
    ),
    Note(
        "deferred",
        "cus-0003",
        "Hooli",
        "partner expense connection",
        "deferred until QuickBooks Online is authorized",
    ),
    Note(
        "blocked",
        "cus-0005",
        "Umbrella",
        "partner expense connection",
        "blocked: the accounting connection it waits for is refused",
    ),
)


def _or_none(t: Callable[[str], str], s: str | None) -> str | None:
    return None if s is None else t(s)


def sample_plan(x: str = "") -> Plan:
    def t(s: str) -> str:
        return s + x

    create = CustomerChange(
        t("cus-0001"),
        t("Sawayn Group"),
        "create",
        None,
        (
            Action(
                Kind.CREATE_COMPANY,
                t("cus-0001"),
                None,
                "company",
                t("no company with reconcile.uid=cus-0001"),
                Request("POST", "/companies"),
                after={
                    "name": t("Sawayn Group"),
                    "description": t("UK"),
                    "tags": {t("r"): t("uk")},
                },
            ),
            Action(
                Kind.CREATE_CONNECTION,
                t("cus-0001"),
                None,
                t("accounting connection QuickBooks Online (qhyg)"),
                t("no usable QuickBooks Online connection"),
                Request("POST", "/companies/{companyId}/connections"),
            ),
        ),
    )
    update = CustomerChange(
        t("cus-0002"),
        t("Globex Ltd"),
        "update",
        t("6f1c-c2"),
        (
            Action(
                Kind.UPDATE_COMPANY,
                t("cus-0002"),
                t("6f1c-c2"),
                "company",
                t("differs from the file"),
                Request("PUT", "/companies/c2"),
                before={
                    "name": t("Globex"),
                    "description": "",
                    "tags": {t("region"): t("uk"), t("segment"): t("smb")},
                },
                after={
                    "name": t("Globex Ltd"),
                    "description": t("Widgets"),
                    "tags": {t("region"): t("ie"), t("crm"): t("SF-123")},
                },
            ),
            Action(
                Kind.UNLINK_CONNECTION,
                t("cus-0002"),
                t("6f1c-c2"),
                t("accounting connection Xero (gbol)"),
                t("platform changed to Sage Intacct"),
                Request("PATCH", "/companies/c2/connections/k1"),
                connection_id=t("k1"),
                status=t("Linked"),
            ),
            Action(
                Kind.SET_EXPENSE_CONFIG,
                t("cus-0002"),
                t("6f1c-c2"),
                "expense config",
                t("expense config differs from the file"),
                Request("POST", "/companies/c2/sync/expenses/config"),
                before={"bankAccount": {"id": t("88")}, "supplier": {"id": t("124")}},
                after={"bankAccount": {"id": t("89")}, "supplier": {"id": t("124")}},
            ),
        ),
    )
    offboard = CustomerChange(
        t("cus-0009"),
        t("Initech"),
        "offboard",
        t("c9"),
        (
            Action(
                Kind.DELETE_CONNECTION,
                t("cus-0009"),
                t("c9"),
                t("accounting connection Oracle NetSuite (akxx)"),
                t("offboarding: not in the file"),
                Request("DELETE", "/companies/c9/connections/k9"),
                status=t("PendingAuth"),
            ),
            Action(
                Kind.DELETE_COMPANY,
                t("cus-0009"),
                t("c9"),
                "company",
                t("state: deleted"),
                Request("DELETE", "/companies/c9"),
                before={"name": t("Initech"), "description": "", "tags": {}},
            ),
        ),
    )
    notes = tuple(
        Note(
            n.kind,
            t(n.uid),
            t(n.name),
            t(n.subject),
            t(n.text),
            _or_none(t, n.link_url),
            _or_none(t, n.since),
        )
        for n in NOTES
    )
    return Plan(
        owner=t("expenses-prod"),
        changes=(create, update, offboard),
        notes=notes,
        refused=(
            Refusal(
                t("cus-0005"),
                t("Umbrella"),
                t("accounting connection Sage Intacct"),
                t("protect: true forbids unlink and delete"),
            ),
        ),
        warnings=(t('company c7 "Hooli" has no reconcile.uid tag; left alone'),),
    )


def fleet_plan(customers: int, awaiting: int = 0, x: str = "") -> Plan:
    """`customers` new companies, each with an accounting connection, and `awaiting` notes
    (dated newest first, so ordering is visible)."""
    changes = []
    for i in range(customers):
        uid = f"cus-{i:05d}{x}"
        changes.append(
            CustomerChange(
                uid,
                f"Customer {i}{x}",
                "create",
                None,
                (
                    Action(
                        Kind.CREATE_COMPANY,
                        uid,
                        None,
                        "company",
                        f"no company with reconcile.uid={uid}",
                        Request("POST", "/companies"),
                        after={"name": f"Customer {i}{x}", "tags": {"region": "uk"}},
                    ),
                    Action(
                        Kind.CREATE_CONNECTION,
                        uid,
                        None,
                        "accounting connection Xero (gbol)",
                        "no usable Xero connection",
                        Request("POST", "/companies/{companyId}/connections"),
                    ),
                ),
            )
        )
    notes = tuple(
        Note(
            "awaiting_authorization",
            f"cus-w{i:05d}",
            f"Waiting {i}",
            "Xero",
            "awaiting customer authorization",
            link_url=f"https://link.codat.io/{i}",
            since=f"2026-{12 - i % 12:02d}-{1 + i % 28:02d}T00:00:00Z",
        )
        for i in range(awaiting)
    )
    return Plan(owner="o", changes=tuple(changes), notes=notes)
