"""Codat's pull history on the served sandbox: every `POST .../data/all` is recorded as pull
operations (one per data type it refreshes), requested at the sandbox's clock, listed by `GET
/companies/{companyId}/data/history` with Codat's paging, `query=` and `orderBy=`; `reconcile
sandbox clock --advance-days` moves a served sandbox's time (its data ages, its `Date` header says
so). Every answer is checked against Codat's official specs."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import AUTH_HEADERS
from tests.sandbox import conforms, linked_company
from tests.sandbox.test_connection_errors import fails, ok
from tests.sandbox.test_datasets import NEEDED, UNKNOWN, when
from tests.support.sandbox_server import serve_sandbox


@pytest.fixture
def own(tmp_path: Path) -> Iterator[tuple[httpx.Client, Path]]:
    """A sandbox of its own: its clock is moved."""
    db = tmp_path / "own.db"
    with (
        serve_sandbox(db) as url,
        httpx.Client(base_url=url, headers=AUTH_HEADERS, timeout=30) as client,
    ):
        yield client, db


def _linked(codat: httpx.Client, db: Path) -> dict[str, Any]:
    uid, company, connection = linked_company(
        codat, db, name="Pulled Ltd", owner="pull-team", prefix="pull", platform="qhyg"
    )
    return {"uid": uid, "id": company["id"], "connection": connection["id"]}


def history(codat: httpx.Client, company_id: str, **params: str) -> dict[str, Any]:
    body: dict[str, Any] = conforms(
        codat.get(f"/companies/{company_id}/data/history", params=params), 200
    )
    return body


def test_history_of_unknown_company_is_404(codat: httpx.Client) -> None:
    conforms(codat.get(f"/companies/{UNKNOWN}/data/history"), 404)


def test_each_refresh_is_recorded_as_pull_operations(codat: httpx.Client, sandbox_db: Path) -> None:
    customer = _linked(codat, sandbox_db)
    assert history(codat, customer["id"])["results"] == []  # control: nothing asked for yet
    before = datetime.now(UTC) - timedelta(seconds=5)
    conforms(codat.post(f"/companies/{customer['id']}/data/all"), 204)
    found = history(codat, customer["id"])
    assert found["totalResults"] == len(NEEDED)
    assert {op["dataType"] for op in found["results"]} == set(NEEDED)
    for op in found["results"]:
        assert (op["companyId"], op["connectionId"]) == (customer["id"], customer["connection"])
        assert op["status"] == "Complete" and op["isCompleted"] and not op["isErrored"]
        assert when(op["requested"]) >= before

    ok("data-status", "--db", str(sandbox_db), "--uid", customer["uid"], "--fail")
    conforms(codat.post(f"/companies/{customer['id']}/data/all"), 204)
    newest = history(codat, customer["id"], orderBy="-requested", pageSize="3")
    assert len(newest["results"]) == 3 and "next" in newest["_links"]
    assert {op["status"] for op in newest["results"]} == {"FetchError"}
    assert all(op["isErrored"] for op in newest["results"])
    errored = history(codat, customer["id"], query="status=FetchError")
    assert errored["totalResults"] == len(NEEDED)
    conforms(codat.get(f"/companies/{customer['id']}/data/history?orderBy=nope"), 400)


def test_advancing_the_clock_ages_data_and_dates_answers(own: tuple[httpx.Client, Path]) -> None:
    codat, db = own
    customer = _linked(codat, db)
    conforms(codat.post(f"/companies/{customer['id']}/data/all"), 204)
    ok("data-status", "--db", str(db), "--uid", customer["uid"], "--stop")
    said = parsedate_to_datetime(codat.get("/profile").headers["date"])
    assert abs(said - datetime.now(UTC)) < timedelta(minutes=1)  # control

    out = ok("clock", "--db", str(db), "--advance-days", "3")
    assert "the sandbox's clock is now" in out
    answer = codat.get(f"/companies/{customer['id']}/dataStatus")
    statuses = conforms(answer, 200)
    now = parsedate_to_datetime(answer.headers["date"])
    assert abs(now - datetime.now(UTC) - timedelta(days=3)) < timedelta(minutes=1)
    last = when(statuses["suppliers"]["lastSuccessfulSync"])
    assert timedelta(days=3) - timedelta(minutes=1) < now - last < timedelta(days=3, minutes=1)

    conforms(codat.post(f"/companies/{customer['id']}/data/all"), 204)
    times = sorted(when(op["requested"]) for op in history(codat, customer["id"])["results"])
    assert times[-1] - times[0] > timedelta(days=3) - timedelta(minutes=1)
    # What it creates now is dated by its clock too (the company before it: by the old time).
    made = conforms(codat.post("/companies", json={"name": "Later Ltd"}), 200)
    assert abs(when(made["created"]) - now) < timedelta(minutes=1)
    before = conforms(codat.get(f"/companies/{customer['id']}"), 200)
    assert abs(when(before["created"]) - datetime.now(UTC)) < timedelta(minutes=1)
    fails("clock", "--db", str(db), "--advance-days", "-1", words=("--advance-days",))
