"""`reconcile export`'s pure part: which companies, which uids, what the file cannot say.

Every produced text is read back by the real loader (`reconcile.desired.load`): it must validate.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
import yaml
import yaml_rs

from reconcile.codat import ClientSettings
from reconcile.codat.readonly import ReadOnlyClient
from reconcile.desired import load
from reconcile.desired.dump import quote
from reconcile.export import export_text, select, slug, unique_uid
from reconcile.facts.export import read_for_export
from reconcile.model import Company, DesiredState, ExpenseConfig
from tests.support.numbered import cid, company, conn

OWNER = "team"


def managed(uid: str, **extra: str) -> dict[str, str]:
    return {"reconcile.owner": OWNER, "reconcile.uid": uid, **extra}


def export(
    companies: list[Company],
    tmp_path: Path,
    *,
    adopt: bool = False,
    configs: dict[str, ExpenseConfig | None] | None = None,
) -> tuple[str, list[str], DesiredState]:
    selection = select(OWNER, companies, adopt=adopt)
    text, warnings = export_text(OWNER, selection, configs or {}, adopt=adopt)
    path = tmp_path / "exported.yaml"
    path.write_text(text)
    return text, warnings, load([path])


def test_fields_and_order(tmp_path: Path) -> None:
    companies = [
        company(2, "Zed & Co", managed("b", region="uk"), conn(1, "Linked"), description="Hi"),
        company(1, "Acme", managed("a", **{"reconcile.protect": "true"}), conn(2, "PendingAuth")),
        company(3, "Theirs", {"reconcile.owner": "else", "reconcile.uid": "c"}),
    ]
    companies[0] = Company(
        companies[0].id,
        companies[0].name,
        "Hi",
        companies[0].tags,
        (*companies[0].connections, conn(3, "Linked", key="expn", source_type="Expense")),
    )
    config = ExpenseConfig("89", "124", "140")
    text, warnings, state = export(companies, tmp_path, configs={cid(2): config})
    # a awaits authorization; the one Linked customer has the partner expense connection
    [warning, basis] = warnings
    assert warning.startswith("a (company") and "guess: expenses: true: awaiting" in warning
    assert "guessed for 1 customer(s) awaiting authorization, because 1 of the 1" in basis
    a, b = state.customers
    assert (a.uid, a.accounting, a.protect, a.expenses, a.expense_config) == (
        "a",
        "gbol",
        True,
        True,
        None,
    )
    assert (b.uid, b.name, b.description, dict(b.tags), b.expenses) == (
        "b",
        "Zed & Co",
        "Hi",
        {"region": "uk"},
        True,
    )
    assert b.expense_config == config
    assert "accounting: xero" in text and "Theirs" not in text


def test_statuses_choose_the_connection_the_planner_keeps(tmp_path: Path) -> None:
    companies = [
        company(1, "Only Unlinked", managed("u"), conn(1, "Unlinked")),
        company(2, "Deauth", managed("d"), conn(2, "Deauthorized")),
        company(
            3,
            "Relinked",
            managed("r"),
            conn(3, "Deauthorized", key="qhyg", name="QuickBooks Online"),
            conn(4, "Linked"),
        ),
    ]
    _, warnings, state = export(companies, tmp_path)
    by_uid = {c.uid: c for c in state.customers}
    assert by_uid["u"].accounting is None
    assert by_uid["d"].accounting == "gbol"
    assert by_uid["r"].accounting == "gbol"
    assert warnings == []


def test_what_the_format_cannot_say_is_a_comment_and_a_warning(tmp_path: Path) -> None:
    many_tags = {f"k{n}": str(n) for n in range(10)}
    companies = [
        company(
            1,
            "Two Active",
            managed("two"),
            conn(1, "Linked"),
            conn(2, "PendingAuth", key="qhyg", name="QuickBooks Online"),
        ),
        company(2, "Exotic", managed("exotic"), conn(3, "Linked", key="zzzz", name="Abacus 2000")),
        company(3, "Crowded", {**many_tags}),
        company(4, "Reserved", managed("res", **{"reconcile.extra": "1"})),
        company(5, "Twin", managed("twin")),
        company(6, "Twin", managed("twin")),
        company(7, "No uid", {"reconcile.owner": OWNER}),
    ]
    text, warnings, state = export(companies, tmp_path, adopt=False)
    assert {c.uid for c in state.customers} == {"two", "exotic", "res", "twin"}
    assert "  # export: 2 active accounting connections" in text
    assert "Abacus 2000" in text and "not a Sync for Expenses platform" in text
    assert "reconcile.extra=1 is reserved" in text
    assert "# export: 2 companies carry reconcile.uid=twin: this entry is" in text
    assert f"empty twin of {cid(5)} (reconcile.uid=twin)" in text
    assert f'#   company {cid(7)} "No uid": no reconcile.uid tag' in text
    assert len(warnings) == 6  # the twin twice: at the one kept and for the one left out
    assert all("\n" not in w for w in warnings)

    text, warnings, state = export(companies, tmp_path, adopt=True)
    crowded = next(c for c in state.customers if c.id == cid(3))
    assert len(crowded.tags) == 8
    assert "more than 8 user tags fit" in text
    assert next(c for c in state.customers if c.id == cid(7)).uid == "no-uid"


def test_adopt_uids_from_names_unique_and_stable(tmp_path: Path) -> None:
    companies = [
        company(1, "Acme", {}),
        company(2, "ACME", {}, created="2026-01-01T00:00:00Z"),
        company(3, "O'Reilly & Sons @ 42", {}),
        company(4, "acme", managed("acme")),
        company(5, "Theirs", {"reconcile.owner": "else"}),
        company(6, "Tagged", {"reconcile.uid": "keep-me"}),
    ]
    text, _, state = export(companies, tmp_path, adopt=True)
    ids = {c.id: c.uid for c in state.customers}
    assert ids == {
        None: "acme",  # the managed one (no id:)
        cid(1): "acme-2",
        cid(2): "acme-3",
        cid(3): "o-reilly-sons-42",
        cid(6): "keep-me",
    }
    again, _, _ = export(list(reversed(companies)), tmp_path, adopt=True)
    assert again == text


def test_slug_and_unique() -> None:
    assert slug("  ") == "company"
    assert slug("x" * 100) == "x" * 56
    assert unique_uid("a", {"a", "a-2"}) == "a-3"


def test_hostile_text_stays_one_comment_line(tmp_path: Path) -> None:
    evil = company(1, "Evil", managed("e", **{"reconcile.x": "a\nversion: 2"}))
    text, warnings, state = export([evil], tmp_path)
    assert any("reconcile.x" in w for w in warnings)
    assert [c.uid for c in state.customers] == ["e"]
    assert "\nversion: 2" not in text and "a\\nversion: 2" in text


@pytest.mark.parametrize(
    "value",
    [
        "yes",
        "No",
        "on",
        "012",
        "0o12",
        "0x1F",
        "1e3",
        "1_000",
        "12:30",
        "2024-01-01",
        "null",
        "~",
        ".inf",
        "-.5",
        "+1",
        "=",
        "<<",
        "Hooli & Partners",
        "O'Brien",
        "@home",
        "- x",
        "a: b",
        "a #b",
        "Inc.",
        "x ",
        " x",
        "",
        "\\",
        "é",
        "true",
        "False",
    ],
)
def test_quote_reads_back_the_same_in_yaml_11_and_12(value: str) -> None:
    line = f"k: {quote(value)}\n"
    assert yaml.safe_load(line) == {"k": value}  # PyYAML: YAML 1.1
    assert yaml_rs.loads(line, parse_datetime=False) == {"k": value}  # yaml-rs: YAML 1.2


def test_an_unreadable_config_is_a_comment_not_a_failed_export(tmp_path: Path) -> None:
    linked = [conn(n, "Linked") for n in (1, 2)]
    wire = [
        {
            "id": cid(n),
            "name": f"Company {n}",
            "tags": managed(f"c{n}"),
            "dataConnections": [
                {
                    "id": linked[n - 1].id,
                    "sourceType": "Accounting",
                    "platformName": "Xero",
                    "integrationKey": "gbol",
                    "status": "Linked",
                    "created": "2026-11-01T00:00:00Z",
                }
            ],
        }
        for n in (1, 2)
    ]

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/companies":
            return httpx.Response(200, json={"results": wire, "totalResults": 2})
        if cid(1) in request.url.path:
            return httpx.Response(503, json={"error": "busy", "correlationId": "c-1"})
        body = {
            k: {"id": v} for k, v in (("bankAccount", "1"), ("supplier", "2"), ("customer", "3"))
        }
        return httpx.Response(200, json=body)

    async def go() -> tuple[str, list[str]]:
        settings = ClientSettings(base_url="http://127.0.0.1:1", max_attempts=1)
        async with ReadOnlyClient("k", settings, transport=httpx.MockTransport(handler)) as client:
            selection, configs = await read_for_export(client, OWNER, adopt=False)
            return export_text(OWNER, selection, configs, adopt=False)

    text, warnings = asyncio.run(go())
    [warning] = warnings
    assert warning.startswith("c1 (company") and "could not be read" in warning
    assert "  # export: the expense config could not be read" in text
    path = tmp_path / "partial.yaml"
    path.write_text(text)
    c1, c2 = load([path]).customers
    assert c1.expense_config is None and c2.expense_config == ExpenseConfig("1", "2", "3")
