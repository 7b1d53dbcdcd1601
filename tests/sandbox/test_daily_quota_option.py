"""Which daily quota each sandbox has: none in process unless RECONCILE_SANDBOX_DAILY_QUOTA asks
for one (so a trial of the embedded `--sandbox` never stops), Codat's formula when served."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from reconcile.sandbox.app import create_app
from reconcile.sandbox.options import DAILY_QUOTA_ENV, SandboxOptions, parse_daily_quota
from tests.conftest import AUTH_HEADERS
from tests.sandbox import conforms
from tests.support.sandbox_server import serve_sandbox

HEADERS = ("X-Rate-Limit-Limit", "X-Rate-Limit-Remaining", "X-Rate-Limit-Reset")
IN_PROCESS_URL = "http://127.0.0.1:8765"


def in_process_gets(
    options: SandboxOptions, count: int, clock: Callable[[], float] = time.time
) -> list[httpx.Response]:
    async def go() -> list[httpx.Response]:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=create_app(options, clock=clock)),
            base_url=IN_PROCESS_URL,
            headers=AUTH_HEADERS,
        ) as client:
            return [await client.get("/companies") for _ in range(count)]

    return asyncio.run(go())


def counted(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        try:
            row = conn.execute("SELECT COALESCE(SUM(used), 0) FROM sandbox_rate_usage").fetchone()
        except sqlite3.OperationalError:  # the table was never created: nothing was counted
            return 0
        return int(row[0])


def test_in_process_sandbox_has_no_daily_quota_by_default(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    options = SandboxOptions.in_process(db, {})
    assert options.daily_quota is None
    responses = in_process_gets(options, 1200)  # more than Codat's 1,000 for a new account
    assert {r.status_code for r in responses} == {200}
    assert not any(h in r.headers for r in responses for h in HEADERS)
    assert counted(db) == 0
    conforms(responses[-1], 200)


@pytest.mark.parametrize(("value", "limit"), [("3", 3), (" 3 ", 3), ("codat", 1000)])
def test_the_environment_variable_asks_for_a_quota(tmp_path: Path, value: str, limit: int) -> None:
    options = SandboxOptions.in_process(tmp_path / "s.db", {DAILY_QUOTA_ENV: value})
    responses = in_process_gets(options, 4)
    assert [int(r.headers["X-Rate-Limit-Limit"]) for r in responses] == [limit] * 4
    statuses = [r.status_code for r in responses]
    assert statuses == ([200, 200, 200, 429] if limit == 3 else [200] * 4)
    if limit == 3:
        conforms(responses[-1], 429)


@pytest.mark.parametrize("value", ["", "none", "off", "unlimited"])
def test_empty_or_none_means_no_quota(tmp_path: Path, value: str) -> None:
    assert (
        SandboxOptions.in_process(tmp_path / "s.db", {DAILY_QUOTA_ENV: value}).daily_quota is None
    )


@pytest.mark.parametrize("value", ["banana", "-1", "1e3", "10 000"])
def test_a_bad_value_names_the_variable(tmp_path: Path, value: str) -> None:
    with pytest.raises(ValueError, match=DAILY_QUOTA_ENV):
        SandboxOptions.in_process(tmp_path / "s.db", {DAILY_QUOTA_ENV: value})
    with pytest.raises(ValueError, match="--daily-quota"):
        parse_daily_quota(value)


def test_open_client_reads_the_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The wiring in the CLI's `open_client` (what `--sandbox` uses)."""
    from reconcile.runs.connect import Where, open_client

    async def first_answer() -> httpx.Response:
        async with open_client(Where(True, tmp_path / "s.db")) as client:
            return await client.request("GET", "/companies")

    monkeypatch.delenv(DAILY_QUOTA_ENV, raising=False)
    assert "X-Rate-Limit-Limit" not in asyncio.run(first_answer()).headers
    monkeypatch.setenv(DAILY_QUOTA_ENV, "7")
    assert asyncio.run(first_answer()).headers["X-Rate-Limit-Limit"] == "7"


def test_served_sandbox_keeps_codats_formula_by_default(tmp_path: Path) -> None:
    with (
        serve_sandbox(tmp_path / "s.db") as url,
        httpx.Client(base_url=url, headers=AUTH_HEADERS, timeout=10) as client,
    ):
        answer = conforms(client.get("/companies"), 200)
        assert answer["totalResults"] == 0
        assert client.get("/companies").headers["X-Rate-Limit-Limit"] == "1000"
    with (
        serve_sandbox(tmp_path / "t.db", "--daily-quota", "none") as url,
        httpx.Client(base_url=url, headers=AUTH_HEADERS, timeout=10) as client,
    ):
        assert "X-Rate-Limit-Limit" not in client.get("/companies").headers
