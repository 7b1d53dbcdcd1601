"""The customer's Link pages: rendered in process, and driven by a real Chromium on the wire."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from reconcile.sandbox.app import create_app
from reconcile.sandbox.link import link_routes
from reconcile.sandbox.options import SandboxOptions
from reconcile.sandbox.store import Store
from tests.support.browser import artifact, chromium
from tests.support.sandbox_server import serve_sandbox

AUTH = {"Authorization": "Basic bGluay1wYWdlLXRlc3Q="}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "sandbox.db")
    yield s
    s.close()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def client(store: Store) -> AsyncIterator[httpx.AsyncClient]:
    app = Starlette(routes=link_routes(store))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1:8765"
    ) as c:
        yield c


def _path(url: str) -> str:
    return httpx.URL(url).raw_path.decode()


def _company_with_connection(store: Store, platform: str = "gbol") -> tuple[str, str, str]:
    company = store.create_company("Acme <Trading> & Co", None, {"region": "uk"})
    connection = store.create_connection(company["id"], platform, "http://127.0.0.1:8765")
    return company["id"], connection["id"], _path(connection["linkUrl"])


_TOKEN = re.compile(r'name="token" value="([0-9a-f]+)"')


async def _choose(client: httpx.AsyncClient, start: str, action: str) -> httpx.Response:
    """What the customer's click sends: the form of the page, with its token."""
    page = await client.get(start)
    found = _TOKEN.search(page.text)
    token = found.group(1) if found else "none-on-the-page"
    return await client.post(start.removesuffix("/start") + f"/{action}", data={"token": token})


def _assert_clean_html(html: str) -> None:
    assert html.startswith("<!doctype html>")
    assert '<html lang="en">' in html
    assert "<title>" in html and "<main>" in html and "<h1>" in html
    # No external assets: no scripts, no stylesheets or images from elsewhere.
    assert "<script" not in html
    assert not re.search(r'(?:src|href)="(?:https?:)?//', html)


@pytest.mark.anyio
async def test_pending_connection_page(store: Store, client: httpx.AsyncClient) -> None:
    cid, _, start = _company_with_connection(store)
    page = await client.get(start)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    html = page.text
    _assert_clean_html(html)
    assert "Acme &lt;Trading&gt; &amp; Co" in html  # escaped, never raw
    assert "Xero" in html
    assert 'data-status="PendingAuth"' in html
    assert ">Authorize</button>" in html and ">Deny</button>" in html
    assert "Revoke" not in html
    assert f'href="/link/companies/{cid}"' in html


@pytest.mark.anyio
async def test_authorize_deny_revoke(store: Store, client: httpx.AsyncClient) -> None:
    cid, conn_id, start = _company_with_connection(store, "qhyg")
    base = start.removesuffix("/start")

    denied = await _choose(client, start, "deny")
    assert denied.status_code == 303
    assert denied.headers["location"] == start + "?outcome=denied"
    assert store.get_connection(cid, conn_id)["status"] == "PendingAuth"  # type: ignore[index]
    assert "Access was not granted" in (await client.get(denied.headers["location"])).text

    authorized = await _choose(client, start, "authorize")
    assert authorized.status_code == 303
    assert store.get_connection(cid, conn_id)["status"] == "Linked"  # type: ignore[index]
    html = (await client.get(authorized.headers["location"])).text
    assert 'data-status="Linked"' in html and ">Revoke access</button>" in html
    assert "Authorize" not in html

    # A stale page: authorizing again is not offered any more.
    token = _TOKEN.search(html)
    assert token is not None
    again = await client.post(base + "/authorize", data={"token": token.group(1)})
    assert again.status_code == 409 and "Not possible" in again.text

    revoked = await _choose(client, start, "revoke")
    assert revoked.status_code == 303
    assert store.get_connection(cid, conn_id)["status"] == "Deauthorized"  # type: ignore[index]
    html = (await client.get(revoked.headers["location"])).text
    assert 'data-status="Deauthorized"' in html and "Revoke access" not in html
    # As Codat's Link does: a deauthorized connection can be re-authorized from its page
    assert ">Re-authorize</button>" in html and "There is nothing to do" not in html

    reauthorized = await _choose(client, start, "reauthorize")
    assert reauthorized.status_code == 303
    assert reauthorized.headers["location"] == start + "?outcome=reauthorized"
    assert store.get_connection(cid, conn_id)["status"] == "Linked"  # type: ignore[index]
    assert "Access granted again" in (await client.get(reauthorized.headers["location"])).text


@pytest.mark.anyio
async def test_company_page_lists_connections(store: Store, client: httpx.AsyncClient) -> None:
    cid, conn_id, start = _company_with_connection(store, "akxx")
    store.set_connection_status(cid, conn_id, "Linked")
    store.create_partner_expense_connection(cid, "http://127.0.0.1:8765")
    page = await client.get(f"/link/companies/{cid}")
    assert page.status_code == 200
    _assert_clean_html(page.text)
    assert f'href="{start}"' in page.text
    assert "Oracle NetSuite" in page.text and "Partner Expense" in page.text


@pytest.mark.anyio
async def test_unknown_ids_are_404_pages(store: Store, client: httpx.AsyncClient) -> None:
    cid, _, _ = _company_with_connection(store)
    for path in (
        "/link/companies/nope",
        "/link/companies/nope/connections/nope/start",
        f"/link/companies/{cid}/connections/nope/start",
    ):
        page = await client.get(path)
        assert page.status_code == 404, path
        _assert_clean_html(page.text)
    missing = await client.post(f"/link/companies/{cid}/connections/nope/authorize")
    assert missing.status_code == 404


@pytest.mark.anyio
async def test_pages_cannot_be_framed(store: Store, client: httpx.AsyncClient) -> None:
    cid, _, start = _company_with_connection(store)
    for path in (start, f"/link/companies/{cid}", "/link/companies/nope"):
        page = await client.get(path)
        assert page.headers["x-frame-options"] == "DENY", path
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"], path
        assert "form-action 'self'" in page.headers["content-security-policy"], path


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("data", "headers"),
    [
        (None, {}),  # a bare POST, as a cross-site form or fetch would send
        ({"token": "0" * 64}, {}),  # a guessed token
        ("right", {"Origin": "http://evil.example"}),  # the right token from another origin
        ("right", {"Origin": "null"}),
        ("right", {"Sec-Fetch-Site": "cross-site"}),
        ("other", {}),  # the token of another connection's page
    ],
)
async def test_a_choice_not_made_on_the_page_is_403(
    store: Store,
    client: httpx.AsyncClient,
    data: str | dict[str, str] | None,
    headers: dict[str, str],
) -> None:
    cid, conn_id, start = _company_with_connection(store)
    other = store.create_company("Other", None, {})
    other_start = _path(store.create_connection(other["id"], "gbol", "http://x")["linkUrl"])
    page_of = {"right": start, "other": other_start}
    form = data if not isinstance(data, str) else None
    if isinstance(data, str):
        found = _TOKEN.search((await client.get(page_of[data])).text)
        assert found is not None
        form = {"token": found.group(1)}
    for action in ("authorize", "deny"):
        refused = await client.post(
            start.removesuffix("/start") + f"/{action}", data=form, headers=headers
        )
        assert refused.status_code == 403, (action, refused.text)
        assert "Not allowed" in refused.text and refused.headers["x-frame-options"] == "DENY"
    assert store.get_connection(cid, conn_id)["status"] == "PendingAuth"  # type: ignore[index]
    # The page itself still works, with or without the browser's same-origin headers.
    own = {"Origin": "http://127.0.0.1:8765", "Sec-Fetch-Site": "same-origin"}
    found = _TOKEN.search((await client.get(start)).text)
    assert found is not None
    done = await client.post(
        start.removesuffix("/start") + "/authorize", data={"token": found.group(1)}, headers=own
    )
    assert done.status_code == 303
    assert store.get_connection(cid, conn_id)["status"] == "Linked"  # type: ignore[index]


def test_every_process_serving_a_file_accepts_the_same_tokens(tmp_path: Path) -> None:
    from reconcile.sandbox.link import PageTokens

    first, second = PageTokens(tmp_path / "s.db"), PageTokens(tmp_path / "s.db")
    assert first.token("c", "k") == second.token("c", "k")
    assert first.valid("c", "k", second.token("c", "k"))
    assert not first.valid("c", "k2", second.token("c", "k"))
    assert first.token("c", "k") != PageTokens(tmp_path / "other.db").token("c", "k")


def _pending_on_the_wire(api: httpx.Client, name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A company created through the API, with its PendingAuth Xero connection."""
    company = api.post("/companies", json={"name": name}).json()
    path = f"/companies/{company['id']}/connections"
    return company, api.post(path, json={"platformKey": "gbol"}).json()


def test_a_cross_site_post_is_refused_on_the_wire(tmp_path: Path) -> None:
    """Through the served sandbox: the POST a page on another site would make."""
    with (
        serve_sandbox(tmp_path / "sandbox.db") as base_url,
        httpx.Client(base_url=base_url, headers=AUTH, timeout=10) as api,
    ):
        company, connection = _pending_on_the_wire(api, "Wire Customer")
        action = connection["linkUrl"].removesuffix("/start") + "/authorize"
        forged = httpx.post(action, headers={"Origin": "http://evil.example"}, data={"a": "b"})
        assert forged.status_code == 403
        framed = httpx.get(connection["linkUrl"])
        assert framed.headers["x-frame-options"] == "DENY"
        status = api.get(f"/companies/{company['id']}/connections/{connection['id']}")
        assert status.json()["status"] == "PendingAuth"


# --------------------------------------------------------------------------- real browser


@pytest.mark.slow
@pytest.mark.browser
def test_customer_authorizes_and_revokes_in_a_browser(tmp_path: Path) -> None:
    with (
        serve_sandbox(tmp_path / "sandbox.db") as base_url,
        httpx.Client(base_url=base_url, headers=AUTH, timeout=10) as api,
    ):
        company, connection = _pending_on_the_wire(api, "Browser Customer Ltd")
        assert connection["status"] == "PendingAuth"
        connection_url = f"/companies/{company['id']}/connections/{connection['id']}"

        with chromium() as browser:
            page = browser.new_page()
            page.set_default_timeout(15_000)
            page.goto(connection["linkUrl"])
            assert page.get_by_role("heading", level=1).inner_text() == "Connect Xero"
            assert "Browser Customer Ltd" in page.locator("main").inner_text()
            page.get_by_role("button", name="Authorize").click()
            page.wait_for_url(re.compile(r"outcome=authorized"))
            assert page.locator("#status").inner_text() == "Linked"
            assert api.get(connection_url).json()["status"] == "Linked"

            page.get_by_role("button", name="Revoke access").click()
            page.wait_for_url(re.compile(r"outcome=revoked"))
            assert page.locator("#status").inner_text() == "Deauthorized"
            assert api.get(connection_url).json()["status"] == "Deauthorized"

            # As Codat's Link does: the customer re-authorizes the deauthorized connection
            page.get_by_role("button", name="Re-authorize").click()
            page.wait_for_url(re.compile(r"outcome=reauthorized"))
            assert page.locator("#status").inner_text() == "Linked"
            assert "Access granted again" in page.locator("main").inner_text()
            assert api.get(connection_url).json()["status"] == "Linked"
            page.screenshot(path=artifact("link-page-reauthorized.png"), full_page=True)


@pytest.mark.anyio
async def test_full_app_serves_link_pages_without_credentials(tmp_path: Path) -> None:
    """Inside every layer of the sandbox: no Basic auth, no faults, no rate-limit headers."""
    options = SandboxOptions(db_path=tmp_path / "full.db", drop_rate=1.0, daily_quota=1)
    app = create_app(options)
    store = Store(options.db_path)
    try:
        cid, conn_id, start = _company_with_connection(store)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1:8765"
        ) as client:
            page = await client.get(start)
            assert page.status_code == 200 and "X-Rate-Limit-Limit" not in page.headers
            done = await _choose(client, start, "authorize")
            assert done.status_code == 303
        assert store.get_connection(cid, conn_id)["status"] == "Linked"  # type: ignore[index]
    finally:
        store.close()
