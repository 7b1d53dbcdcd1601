"""Codat's rules as the sandbox keeps them, through the real loopback server."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconcile.sandbox.store import Store
from tests.conftest import AUTH_HEADERS
from tests.sandbox import conforms, is_error_message
from tests.support.sandbox_server import serve_sandbox


@pytest.fixture
def run_tag() -> str:
    """A tag value unique to the test, so list filters see only its companies."""
    return uuid.uuid4().hex[:12]


def create(codat: httpx.Client, name: str, **fields: Any) -> dict[str, Any]:
    return dict(conforms(codat.post("/companies", json={"name": name, **fields}), 200))


def listed(codat: httpx.Client, **params: Any) -> dict[str, Any]:
    return dict(conforms(codat.get("/companies", params=params), 200))


def authorize(db: Path, company_id: str, connection_id: str, status: str = "Linked") -> None:
    store = Store(db)
    try:
        store.set_connection_status(company_id, connection_id, status)
    finally:
        store.close()


def connect(codat: httpx.Client, company_id: str, platform: str = "gbol") -> httpx.Response:
    return codat.post(f"/companies/{company_id}/connections", json={"platformKey": platform})


# ---------------------------------------------------------------------- names


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("Company (Codat[1])", "Company Codat1"),
        ("Smith & Sons, Ltd.", "Smith & Sons, Ltd."),
        ("Who's there? Me!", "Who's there? Me!"),
        ("Ünïcode Café™", "ncode Caf"),
        ("a@b.c - d", "a@b.c - d"),
    ],
)
def test_name_is_stripped_to_codats_pattern(codat: httpx.Client, sent: str, kept: str) -> None:
    assert create(codat, sent)["name"] == kept


@pytest.mark.parametrize("name", ["", "()[]{}", "   ", "***"])
def test_name_with_nothing_left_is_400(codat: httpx.Client, name: str) -> None:
    body = conforms(codat.post("/companies", json={"name": name}), 400)
    assert body["validation"]["errors"][0]["itemId"] == "name"


def test_names_are_not_unique(codat: httpx.Client, run_tag: str) -> None:
    first = create(codat, "Same Name", tags={"run": run_tag})
    second = create(codat, "Same Name", tags={"run": run_tag})
    assert first["id"] != second["id"]


# ---------------------------------------------------------------------- tags


def test_tag_limits_at_the_edge_are_accepted(codat: httpx.Client) -> None:
    tags = {f"k{i}": "v" for i in range(9)} | {"k" * 27: "v" * 100}
    assert create(codat, "Edge", tags=tags)["tags"] == tags


@pytest.mark.parametrize(
    ("tags", "item"),
    [
        ({f"k{i}": "v" for i in range(11)}, "tags"),
        ({"k" * 28: "v"}, "k" * 28),
        ({"": "v"}, ""),
        ({"k": "v" * 101}, "k"),
        ({"k": 1}, "k"),
    ],
)
def test_tags_over_the_limits_are_400(codat: httpx.Client, tags: dict[str, Any], item: str) -> None:
    body = conforms(codat.post("/companies", json={"name": "Tags", "tags": tags}), 400)
    assert item in {error["itemId"] for error in body["validation"]["errors"]}


def test_tag_limits_apply_to_patch(codat: httpx.Client) -> None:
    company = create(codat, "Patch Tags")
    tags = {f"k{i}": "v" for i in range(11)}
    response = codat.patch(f"/companies/{company['id']}", json={"tags": tags})
    is_error_message(response, 400)
    assert conforms(codat.get(f"/companies/{company['id']}"), 200)["tags"] == {}


# ---------------------------------------------------------------------- paging


@pytest.mark.parametrize(
    "params",
    [{"pageSize": 0}, {"pageSize": 5001}, {"pageSize": "ten"}, {"page": 0}, {"page": -1}],
)
def test_paging_out_of_bounds_is_400(codat: httpx.Client, params: dict[str, Any]) -> None:
    conforms(codat.get("/companies", params=params), 400)


def test_page_size_defaults_to_100_and_allows_5000(codat: httpx.Client) -> None:
    assert listed(codat)["pageSize"] == 100
    assert listed(codat, pageSize=5000)["pageSize"] == 5000


def test_pagination_links_walk_every_page_and_keep_filters(
    codat: httpx.Client, run_tag: str
) -> None:
    ids = [create(codat, f"Page {i}", tags={"run": run_tag})["id"] for i in range(5)]
    first = listed(codat, tags=f"run={run_tag}", pageSize=2)
    assert first["totalResults"] == 5
    assert "previous" not in first["_links"]
    assert first["_links"]["self"] == {"href": "/companies"}
    assert first["_links"]["current"]["href"].startswith("/companies?page=1&pageSize=2&tags=")
    seen, page = [], first
    while True:
        seen += [c["id"] for c in page["results"]]
        if "next" not in page["_links"]:
            break
        assert run_tag in page["_links"]["next"]["href"]
        page = conforms(codat.get(page["_links"]["next"]["href"]), 200)
        assert "previous" in page["_links"]
    assert seen == ids
    assert page["pageNumber"] == 3
    past_the_end = listed(codat, tags=f"run={run_tag}", pageSize=2, page=9)
    assert past_the_end["results"] == []


# ---------------------------------------------------------------------- tags= filter


@pytest.fixture
def tagged(codat: httpx.Client, run_tag: str) -> dict[str, str]:
    """Three companies of this run: uk/finance, uk/sales, us (no team)."""
    run = {"run": run_tag}
    made = {
        "uk-fin": create(codat, "UK Finance", tags={**run, "region": "uk", "team": "fin"}),
        "uk-sales": create(codat, "UK Sales", tags={**run, "region": "uk", "team": "Sales"}),
        "us": create(codat, "US Co", tags={**run, "region": "us"}),
    }
    return {label: company["id"] for label, company in made.items()}


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("region=uk", {"uk-fin", "uk-sales"}),
        ("region = uk && team = fin", {"uk-fin"}),
        ("team!=fin", {"uk-sales", "us"}),
        ("team~SAL", {"uk-sales"}),
        ("region~u && team!=Sales", {"uk-fin", "us"}),
        ("region=fr", set()),
    ],
)
def test_tags_filter_operators(
    codat: httpx.Client, tagged: dict[str, str], run_tag: str, expression: str, expected: set[str]
) -> None:
    body = listed(codat, tags=f"run={run_tag} && {expression}", pageSize=5000)
    labels = {label for label, cid in tagged.items() if cid in {c["id"] for c in body["results"]}}
    assert labels == expected
    assert body["totalResults"] == len(expected)


@pytest.mark.parametrize("expression", ["region", "=uk", "region=uk &&", "&& region=uk", " "])
def test_malformed_tags_filter_is_400(codat: httpx.Client, expression: str) -> None:
    body = conforms(codat.get("/companies", params={"tags": expression}), 400)
    assert "Malformed" in body["error"]


# ---------------------------------------------------------------------- query= and orderBy=


def test_query_by_id_and_name(codat: httpx.Client, tagged: dict[str, str], run_tag: str) -> None:
    by_id = listed(codat, query=f"id={tagged['us']}")
    assert [c["id"] for c in by_id["results"]] == [tagged["us"]]
    by_name = listed(codat, query="name=UK Finance", tags=f"run={run_tag}")
    assert [c["id"] for c in by_name["results"]] == [tagged["uk-fin"]]
    contains = listed(codat, query="name~uk && name~sal", tags=f"run={run_tag}")
    assert [c["id"] for c in contains["results"]] == [tagged["uk-sales"]]
    either = listed(codat, query=f"id={tagged['us']} || name=UK Sales", tags=f"run={run_tag}")
    assert {c["id"] for c in either["results"]} == {tagged["us"], tagged["uk-sales"]}


@pytest.mark.parametrize("query", ["name", "colour=red", "name=a &&", "&&", "=x"])
def test_malformed_query_is_400(codat: httpx.Client, query: str) -> None:
    conforms(codat.get("/companies", params={"query": query}), 400)


def test_order_by(codat: httpx.Client, tagged: dict[str, str], run_tag: str) -> None:
    def names(order: str) -> list[str]:
        body = listed(codat, tags=f"run={run_tag}", orderBy=order)
        return [c["name"] for c in body["results"]]

    assert names("name") == ["UK Finance", "UK Sales", "US Co"]
    assert names("-name") == ["US Co", "UK Sales", "UK Finance"]
    assert names("-created") == ["US Co", "UK Sales", "UK Finance"]


@pytest.mark.parametrize("order", ["colour", "--name", ""])
def test_order_by_unknown_field_is_400(codat: httpx.Client, order: str) -> None:
    conforms(codat.get("/companies", params={"orderBy": order}), 400)


# ---------------------------------------------------------------------- PUT vs PATCH


def test_put_replaces_and_patch_changes_only_what_it_carries(codat: httpx.Client) -> None:
    company = create(codat, "Before", description="kept?", tags={"a": "1", "b": "2"})
    path = f"/companies/{company['id']}"
    patched = conforms(codat.patch(path, json={"name": "Patched (x)"}), 200)
    assert (patched["name"], patched["description"], patched["tags"]) == (
        "Patched x",
        "kept?",
        {"a": "1", "b": "2"},
    )
    put = conforms(codat.put(path, json={"name": "Put", "tags": {"c": "3"}}), 200)
    assert (put["name"], put.get("description"), put["tags"]) == ("Put", None, {"c": "3"})
    assert conforms(codat.get(path), 200) == put
    is_error_message(codat.put(path, json={"description": "no name"}), 400)


# ---------------------------------------------------------------------- connections


def test_connection_fields(codat: httpx.Client, sandbox_url: str) -> None:
    company = create(codat, "Fields")
    connection = conforms(connect(codat, company["id"], "knfz"), 200)
    assert connection["integrationKey"] == "knfz"
    assert connection["platformName"] == "Sage Intacct"
    assert connection["linkUrl"] == (
        f"{sandbox_url}/link/companies/{company['id']}/connections/{connection['id']}/start"
    )
    assert uuid.UUID(connection["integrationId"]) and uuid.UUID(connection["sourceId"])
    assert conforms(codat.get(f"/companies/{company['id']}"), 200)["dataConnections"] == [
        connection
    ]


def test_only_linked_connections_can_be_unlinked(codat: httpx.Client, sandbox_db: Path) -> None:
    company = create(codat, "Unlink")
    connection = conforms(connect(codat, company["id"]), 200)
    path = f"/companies/{company['id']}/connections/{connection['id']}"
    is_error_message(codat.patch(path, json={"status": "Unlinked"}), 400)
    authorize(sandbox_db, company["id"], connection["id"])
    is_error_message(codat.patch(path, json={"status": "Linked"}), 400)
    assert conforms(codat.patch(path, json={"status": "Unlinked"}), 200)["status"] == "Unlinked"
    is_error_message(codat.patch(path, json={"status": "Unlinked"}), 400)


@pytest.mark.parametrize("blocking", ["PendingAuth", "Linked"])
def test_one_active_accounting_connection(
    codat: httpx.Client, sandbox_db: Path, blocking: str
) -> None:
    company = create(codat, "One Active")
    first = conforms(connect(codat, company["id"], "gbol"), 200)
    authorize(sandbox_db, company["id"], first["id"], blocking)
    body = is_error_message(connect(codat, company["id"], "qhyg"), 400)
    assert first["id"] in body["error"]


@pytest.mark.parametrize("freed_by", ["Unlinked", "Deauthorized", "deleted"])
def test_inactive_accounting_connection_frees_the_slot(
    codat: httpx.Client, sandbox_db: Path, freed_by: str
) -> None:
    company = create(codat, "Freed")
    first = conforms(connect(codat, company["id"], "gbol"), 200)
    if freed_by == "deleted":
        codat.delete(f"/companies/{company['id']}/connections/{first['id']}")
    else:
        authorize(sandbox_db, company["id"], first["id"], freed_by)
    conforms(connect(codat, company["id"], "qhyg"), 200)


def test_partner_expense_connection_is_reused_while_linked(
    codat: httpx.Client, sandbox_db: Path
) -> None:
    company = create(codat, "Expenses")
    path = f"/companies/{company['id']}/sync/expenses/connections/partnerExpense"
    first = conforms(codat.post(path), 200)
    assert conforms(codat.post(path), 200) == first
    expense = [
        c
        for c in conforms(codat.get(f"/companies/{company['id']}"), 200)["dataConnections"]
        if c["sourceType"] == "Expense"
    ]
    assert expense == [first]
    connection_path = f"/companies/{company['id']}/connections/{first['id']}"
    conforms(codat.patch(connection_path, json={"status": "Unlinked"}), 200)
    assert conforms(codat.post(path), 200)["id"] != first["id"]


def test_partner_expense_waits_for_accounting_authorization(
    codat: httpx.Client, sandbox_db: Path
) -> None:
    company = create(codat, "Waiting")
    accounting = conforms(connect(codat, company["id"], "qhyg"), 200)
    path = f"/companies/{company['id']}/sync/expenses/connections/partnerExpense"
    body = conforms(codat.post(path), 400)
    assert "not authorized yet" in body["error"]
    authorize(sandbox_db, company["id"], accounting["id"])
    assert conforms(codat.post(path), 200)["status"] == "Linked"


def test_deleting_a_company_deletes_its_connections(codat: httpx.Client) -> None:
    company = create(codat, "Doomed")
    connection = conforms(connect(codat, company["id"]), 200)
    conforms(codat.delete(f"/companies/{company['id']}"), 204)
    conforms(codat.get(f"/companies/{company['id']}/connections/{connection['id']}"), 404)
    conforms(codat.delete(f"/companies/{company['id']}"), 404)


@pytest.fixture(scope="module")
def omitting_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    db = tmp_path_factory.mktemp("omit") / "sandbox.db"
    with serve_sandbox(db, "--omit-integration-key") as url:
        yield url


def test_omit_integration_key_switch(omitting_url: str, codat: httpx.Client) -> None:
    with httpx.Client(base_url=omitting_url, headers=AUTH_HEADERS) as omitting:
        company = create(omitting, "Omitted")
        connection = conforms(connect(omitting, company["id"], "fbrh"), 200)
        assert "integrationKey" not in connection
        assert connection["platformName"] == "FreeAgent"
        listed_company = conforms(omitting.get(f"/companies/{company['id']}"), 200)
        assert "integrationKey" not in listed_company["dataConnections"][0]
    default = conforms(connect(codat, create(codat, "Keyed")["id"], "fbrh"), 200)
    assert default["integrationKey"] == "fbrh"


# ---------------------------------------------------------------------- expense config


def test_config_is_checked_against_mapping_options(codat: httpx.Client, sandbox_db: Path) -> None:
    company = create(codat, "Config")
    base = f"/companies/{company['id']}/sync/expenses"
    config = {"bankAccount": {"id": "89"}, "supplier": {"id": "124"}, "customer": {"id": "140"}}
    connection = conforms(connect(codat, company["id"], "qhyg"), 200)
    pending = conforms(codat.post(f"{base}/config", json=config), 400)
    assert "Linked" in pending["validation"]["errors"][0]["message"]
    authorize(sandbox_db, company["id"], connection["id"])
    options = conforms(codat.get(f"{base}/mappingOptions"), 200)
    bank_ids = {a["id"] for a in options["accounts"] if a["isBankAccount"]}
    other_ids = {a["id"] for a in options["accounts"] if not a["isBankAccount"]}
    assert "89" in bank_ids
    for bad in ("no-such-account", sorted(other_ids)[0]):
        wrong = {**config, "bankAccount": {"id": bad}}
        body = conforms(codat.post(f"{base}/config", json=wrong), 400)
        assert body["validation"]["errors"][0]["itemId"] == "bankAccount"
    chosen = {**config, "bankAccount": {"id": sorted(bank_ids)[-1]}}
    assert conforms(codat.post(f"{base}/config", json=chosen), 200) == chosen
    assert conforms(codat.get(f"{base}/config"), 200) == chosen
    is_error_message(codat.put(f"{base}/config", json=chosen), 405)
    assert conforms(codat.get(f"{base}/config"), 200) == chosen


def test_mapping_options_are_deterministic_per_company(
    codat: httpx.Client, sandbox_db: Path
) -> None:
    answers = []
    for i in range(4):
        company = create(codat, f"Mapping {i}")
        connection = conforms(connect(codat, company["id"], "gbol"), 200)
        authorize(sandbox_db, company["id"], connection["id"])
        path = f"/companies/{company['id']}/sync/expenses/mappingOptions"
        first = conforms(codat.get(path), 200)
        assert conforms(codat.get(path), 200) == first
        answers.append(first)
    assert len({repr(a) for a in answers}) > 1
    assert answers[0]["expenseProvider"] is None


def test_connections_list_query_order_and_paging(codat: httpx.Client, sandbox_db: Path) -> None:
    company = create(codat, "Many Connections")
    first = conforms(connect(codat, company["id"], "gbol"), 200)
    authorize(sandbox_db, company["id"], first["id"], "Deauthorized")
    second = conforms(connect(codat, company["id"], "qhyg"), 200)
    path = f"/companies/{company['id']}/connections"

    def ids(**params: Any) -> list[str]:
        return [c["id"] for c in conforms(codat.get(path, params=params), 200)["results"]]

    assert ids() == [first["id"], second["id"]]
    assert ids(query="status=PendingAuth") == [second["id"]]
    assert ids(query="platformName~xero && sourceType=Accounting") == [first["id"]]
    assert ids(orderBy="-created") == [second["id"], first["id"]]
    page = conforms(codat.get(path, params={"pageSize": 1, "page": 2}), 200)
    assert [c["id"] for c in page["results"]] == [second["id"]]
    assert page["_links"]["previous"]["href"] == f"{path}?page=1&pageSize=1"
    conforms(codat.get(path, params={"query": "colour=red"}), 400)
