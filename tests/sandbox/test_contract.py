"""Every sandbox endpoint, success and error, through the real loopback server, checked against
Codat's official OpenAPI documents (status code and body), with the request bodies we send
checked too."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconcile.sandbox.app import create_app
from reconcile.sandbox.options import SandboxOptions
from reconcile.sandbox.store import Store
from tests.conftest import AUTH_HEADERS
from tests.sandbox import conforms, is_error_message
from tests.support.oas import load_spec, request_errors

UNKNOWN = "7a2e77e9-4e15-4300-83e1-657b7bf392a4"  # fixed: every xdist worker collects the same ids


def send(
    codat: httpx.Client, method: str, path: str, body: Any = None, spec: str = "platform"
) -> httpx.Response:
    """Send a request whose body is first checked against the spec's request schema."""
    if body is not None:
        errors = request_errors(method, path, body, spec)
        assert not errors, errors
    return codat.request(method, path, json=body)


@pytest.fixture
def company(codat: httpx.Client) -> dict[str, Any]:
    body = {"name": "Contract Co", "description": "contract", "tags": {"suite": "contract"}}
    return dict(conforms(send(codat, "POST", "/companies", body), 200))


@pytest.fixture
def connection(codat: httpx.Client, company: dict[str, Any]) -> dict[str, Any]:
    path = f"/companies/{company['id']}/connections"
    return dict(conforms(send(codat, "POST", path, {"platformKey": "qhyg"}), 200))


@pytest.fixture
def linked(sandbox_db: Path, company: dict[str, Any], connection: dict[str, Any]) -> dict[str, Any]:
    """The accounting connection after the customer authorized it (written by another process)."""
    store = Store(sandbox_db)
    try:
        return store.set_connection_status(company["id"], connection["id"], "Linked")
    finally:
        store.close()


# ---------------------------------------------------------------------- auth and routing


@pytest.mark.parametrize(
    "header",
    [None, "Bearer abc", "Basic", "Basic !!!not-base64!!!", "Basic ="],
)
def test_missing_or_malformed_auth_is_401(sandbox_url: str, header: str | None) -> None:
    headers = {"Authorization": header} if header is not None else {}
    response = httpx.get(f"{sandbox_url}/companies", headers=headers)
    body = conforms(response, 401)
    assert body["error"] == "Unauthorized"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/companies"),
        ("GET", f"/companies/{UNKNOWN}"),
        ("GET", f"/companies/{UNKNOWN}/connections"),
        ("POST", f"/companies/{UNKNOWN}/sync/expenses/connections/partnerExpense"),
        ("GET", f"/companies/{UNKNOWN}/sync/expenses/config"),
        ("GET", f"/companies/{UNKNOWN}/sync/expenses/mappingOptions"),
    ],
)
def test_every_endpoint_wants_auth(sandbox_url: str, method: str, path: str) -> None:
    conforms(httpx.request(method, f"{sandbox_url}{path}"), 401)


def test_unknown_route_is_404_error_message(codat: httpx.Client) -> None:
    is_error_message(codat.get("/no/such/route"), 404)


def test_wrong_method_is_405_with_allow(codat: httpx.Client) -> None:
    response = codat.delete("/companies")
    is_error_message(response, 405)
    assert set(response.headers["allow"].replace(" ", "").split(",")) >= {"GET", "POST"}


# ---------------------------------------------------------------------- companies


def test_list_companies(codat: httpx.Client, company: dict[str, Any]) -> None:
    body = conforms(codat.get("/companies", params={"tags": "suite=contract"}), 200)
    assert company["id"] in {c["id"] for c in body["results"]}


@pytest.mark.parametrize(
    "params",
    [{"pageSize": "0"}, {"page": "0"}, {"tags": "broken"}, {"query": "nope"}, {"orderBy": "x"}],
)
def test_list_companies_bad_parameters_are_400(codat: httpx.Client, params: dict[str, str]) -> None:
    conforms(codat.get("/companies", params=params), 400)


def test_create_company(codat: httpx.Client) -> None:
    body = conforms(send(codat, "POST", "/companies", {"name": "Technicalium"}), 200)
    assert body["name"] == "Technicalium"
    assert body["dataConnections"] == []


def test_create_company_without_name_is_400(codat: httpx.Client) -> None:
    body = conforms(codat.post("/companies", json={"description": "no name"}), 400)
    assert body["validation"]["errors"]


def test_create_company_with_a_body_that_is_not_json_is_400(codat: httpx.Client) -> None:
    conforms(codat.post("/companies", content=b"{not json"), 400)


def test_get_company(codat: httpx.Client, company: dict[str, Any]) -> None:
    body = conforms(codat.get(f"/companies/{company['id']}"), 200)
    assert body == company


def test_get_unknown_company_is_404(codat: httpx.Client) -> None:
    conforms(codat.get(f"/companies/{UNKNOWN}"), 404)


def test_put_company(codat: httpx.Client, company: dict[str, Any]) -> None:
    path = f"/companies/{company['id']}"
    body = conforms(send(codat, "PUT", path, {"name": "Renamed", "tags": {"a": "b"}}), 200)
    assert (body["name"], body["tags"]) == ("Renamed", {"a": "b"})


def test_patch_company(codat: httpx.Client, company: dict[str, Any]) -> None:
    path = f"/companies/{company['id']}"
    body = conforms(send(codat, "PATCH", path, {"description": "patched"}), 200)
    assert body["description"] == "patched"


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_change_unknown_company_is_404(codat: httpx.Client, method: str) -> None:
    body = {"name": "x"} if method != "DELETE" else None
    conforms(codat.request(method, f"/companies/{UNKNOWN}", json=body), 404)


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_update_company_with_bad_tags_is_400_though_undocumented(
    codat: httpx.Client, company: dict[str, Any], method: str
) -> None:
    operation = load_spec("platform").operation(method, "/companies/{companyId}")
    assert "400" not in operation["responses"]  # the spec gap the sandbox documents
    response = codat.request(
        method, f"/companies/{company['id']}", json={"name": "x", "tags": {"k" * 28: "v"}}
    )
    assert is_error_message(response, 400)["validation"]["errors"]


def test_delete_company(codat: httpx.Client, company: dict[str, Any]) -> None:
    response = codat.delete(f"/companies/{company['id']}")
    conforms(response, 204)
    assert response.content == b""
    conforms(codat.get(f"/companies/{company['id']}"), 404)


# ---------------------------------------------------------------------- connections


def test_list_connections(
    codat: httpx.Client, company: dict[str, Any], connection: dict[str, Any]
) -> None:
    body = conforms(codat.get(f"/companies/{company['id']}/connections"), 200)
    assert [c["id"] for c in body["results"]] == [connection["id"]]


def test_list_connections_bad_query_is_400(codat: httpx.Client, company: dict[str, Any]) -> None:
    conforms(codat.get(f"/companies/{company['id']}/connections", params={"query": "&&"}), 400)


def test_list_connections_of_unknown_company_is_404(codat: httpx.Client) -> None:
    conforms(codat.get(f"/companies/{UNKNOWN}/connections"), 404)


def test_create_connection(codat: httpx.Client, company: dict[str, Any]) -> None:
    path = f"/companies/{company['id']}/connections"
    body = conforms(send(codat, "POST", path, {"platformKey": "gbol"}), 200)
    assert (body["status"], body["sourceType"], body["platformName"]) == (
        "PendingAuth",
        "Accounting",
        "Xero",
    )


def test_create_connection_for_unknown_company_is_404(codat: httpx.Client) -> None:
    conforms(send(codat, "POST", f"/companies/{UNKNOWN}/connections", {"platformKey": "gbol"}), 404)


@pytest.mark.parametrize("body", [{"platformKey": "zzzz"}, {}, None])
def test_create_connection_for_unknown_platform_is_404(
    codat: httpx.Client, company: dict[str, Any], body: dict[str, str] | None
) -> None:
    conforms(codat.post(f"/companies/{company['id']}/connections", json=body), 404)


def test_second_active_accounting_connection_is_400(
    codat: httpx.Client, company: dict[str, Any], connection: dict[str, Any]
) -> None:
    path = f"/companies/{company['id']}/connections"
    is_error_message(send(codat, "POST", path, {"platformKey": "gbol"}), 400)


def test_get_connection(
    codat: httpx.Client, company: dict[str, Any], connection: dict[str, Any]
) -> None:
    body = conforms(codat.get(f"/companies/{company['id']}/connections/{connection['id']}"), 200)
    assert body == connection


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
def test_unknown_connection_is_404(
    codat: httpx.Client, company: dict[str, Any], method: str
) -> None:
    body = {"status": "Unlinked"} if method == "PATCH" else None
    path = f"/companies/{company['id']}/connections/{UNKNOWN}"
    conforms(codat.request(method, path, json=body), 404)


def test_unlink_linked_connection(
    codat: httpx.Client, company: dict[str, Any], linked: dict[str, Any]
) -> None:
    path = f"/companies/{company['id']}/connections/{linked['id']}"
    body = conforms(send(codat, "PATCH", path, {"status": "Unlinked"}), 200)
    assert body["status"] == "Unlinked"


def test_unlink_pending_connection_is_400(
    codat: httpx.Client, company: dict[str, Any], connection: dict[str, Any]
) -> None:
    path = f"/companies/{company['id']}/connections/{connection['id']}"
    is_error_message(send(codat, "PATCH", path, {"status": "Unlinked"}), 400)


def test_delete_connection_answers_200_with_empty_body(
    codat: httpx.Client, company: dict[str, Any], connection: dict[str, Any]
) -> None:
    path = f"/companies/{company['id']}/connections/{connection['id']}"
    response = codat.delete(path)
    conforms(response, 200)
    assert response.content == b""
    conforms(codat.get(path), 404)


# ---------------------------------------------------------------------- sync for expenses


def test_create_partner_expense_connection(codat: httpx.Client, company: dict[str, Any]) -> None:
    path = f"/companies/{company['id']}/sync/expenses/connections/partnerExpense"
    body = conforms(codat.post(path), 200)
    assert (body["status"], body["sourceType"], body["platformName"]) == (
        "Linked",
        "Expense",
        "Partner Expense",
    )


def test_partner_expense_connection_for_unknown_company_is_404(codat: httpx.Client) -> None:
    conforms(codat.post(f"/companies/{UNKNOWN}/sync/expenses/connections/partnerExpense"), 404)


def test_mapping_options(
    codat: httpx.Client, company: dict[str, Any], linked: dict[str, Any]
) -> None:
    body = conforms(codat.get(f"/companies/{company['id']}/sync/expenses/mappingOptions"), 200)
    assert any(account["isBankAccount"] for account in body["accounts"])


@pytest.mark.parametrize("linked_accounting", [False, True])
def test_mapping_options_404(
    codat: httpx.Client, company: dict[str, Any], linked_accounting: bool
) -> None:
    company_id = company["id"] if not linked_accounting else UNKNOWN
    conforms(codat.get(f"/companies/{company_id}/sync/expenses/mappingOptions"), 404)


CONFIG = {"bankAccount": {"id": "89"}, "supplier": {"id": "124"}, "customer": {"id": "140"}}


def test_set_and_get_config(
    codat: httpx.Client, company: dict[str, Any], linked: dict[str, Any]
) -> None:
    path = f"/companies/{company['id']}/sync/expenses/config"
    assert conforms(send(codat, "POST", path, CONFIG, spec="expenses"), 200) == CONFIG
    assert conforms(codat.get(path), 200) == CONFIG


def test_config_not_set_is_404(codat: httpx.Client, company: dict[str, Any]) -> None:
    conforms(codat.get(f"/companies/{company['id']}/sync/expenses/config"), 404)


def test_config_of_unknown_company_is_404(codat: httpx.Client) -> None:
    path = f"/companies/{UNKNOWN}/sync/expenses/config"
    conforms(codat.get(path), 404)
    conforms(send(codat, "POST", path, CONFIG, spec="expenses"), 404)


@pytest.mark.parametrize(
    "body",
    [
        {**CONFIG, "bankAccount": {"id": "no-such-account"}},
        {"bankAccount": {"id": "89"}},
        [],
    ],
)
def test_bad_config_is_400(
    codat: httpx.Client, company: dict[str, Any], linked: dict[str, Any], body: Any
) -> None:
    path = f"/companies/{company['id']}/sync/expenses/config"
    assert conforms(codat.post(path, json=body), 400)["validation"]["errors"]


def test_put_config_is_405(codat: httpx.Client, company: dict[str, Any]) -> None:
    response = codat.put(f"/companies/{company['id']}/sync/expenses/config", json=CONFIG)
    is_error_message(response, 405)
    assert "POST" in response.headers["allow"]


# ---------------------------------------------------------------------- in process


def test_in_process_app_serves_and_turns_crashes_into_500(tmp_path: Path) -> None:
    """`create_app` through httpx's ASGI transport (no lifespan), and a real crash: the
    store's tables vanish under it."""
    db = tmp_path / "in-process.db"
    app = create_app(SandboxOptions(db_path=db, daily_quota=1000))

    async def scenario() -> tuple[httpx.Response, httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://127.0.0.1:8765", headers=AUTH_HEADERS
        ) as client:
            created = await client.post("/companies", json={"name": "In Process"})
            with sqlite3.connect(db) as conn:
                conn.execute("DROP TABLE connections")
            return created, await client.get("/companies")

    created, crashed = asyncio.run(scenario())
    body = conforms(created, 200)
    assert body["redirect"] == f"http://127.0.0.1:8765/link/companies/{body['id']}"
    assert conforms(crashed, 500)["canBeRetried"] == "True"
