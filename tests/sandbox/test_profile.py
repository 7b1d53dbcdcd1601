"""`GET /profile` names the account the key belongs to, as Codat-Platform.json describes."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from reconcile.codat.client import ClientSettings, CodatClient
from tests.conftest import AUTH_HEADERS
from tests.sandbox import conforms
from tests.support.sandbox_server import serve_sandbox


def test_profile_conforms_and_defaults(codat: httpx.Client) -> None:
    body = conforms(codat.get("/profile"), 200)
    assert body["name"] == "Codat sandbox"


def test_account_name_flag_and_client(tmp_path: Path) -> None:
    with serve_sandbox(tmp_path / "p.db", "--account-name", "Acme Expenses (test)") as url:
        with httpx.Client(base_url=url, headers=AUTH_HEADERS) as raw:
            assert conforms(raw.get("/profile"), 200)["name"] == "Acme Expenses (test)"
            assert raw.put("/profile", json={}).status_code == 405

        async def read() -> str:
            async with CodatClient("k", ClientSettings(base_url=url)) as client:
                return (await client.get_profile()).name

        assert asyncio.run(read()) == "Acme Expenses (test)"
