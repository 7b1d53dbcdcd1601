"""`reconcile sandbox serve|authorize|deauthorize`, run as real subprocesses."""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path

import httpx
import pytest

from reconcile.sandbox.cli import UID_TAG
from reconcile.sandbox.store import Store
from tests.sandbox import conforms
from tests.support.cli import run_sandbox
from tests.support.sandbox_server import serve_sandbox

SECRET = "the-only-key"


def basic(key: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(key.encode()).decode()}


def assert_clean_failure(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in result.stderr


@pytest.mark.parametrize("how", ["flag", "env"])
def test_serve_with_api_key_accepts_only_that_key(tmp_path: Path, how: str) -> None:
    args, env = (("--api-key", SECRET), {}) if how == "flag" else ((), {"SANDBOX_API_KEY": SECRET})
    with serve_sandbox(tmp_path / "s.db", *args, env=env) as url:
        assert url.startswith("http://127.0.0.1:")
        conforms(httpx.get(f"{url}/companies", headers=basic(SECRET)), 200)
        conforms(httpx.get(f"{url}/companies", headers=basic("another-key")), 401)
        conforms(httpx.get(f"{url}/companies"), 401)


def test_serve_refuses_a_non_loopback_host(tmp_path: Path) -> None:
    result = run_sandbox(
        "serve", "--host", "0.0.0.0", "--port", "0", "--db", str(tmp_path / "s.db")
    )
    assert_clean_failure(result, "loopback")


def test_serve_reports_a_port_in_use(tmp_path: Path) -> None:
    with serve_sandbox(tmp_path / "s.db") as url:
        port = url.rsplit(":", 1)[1]
        result = run_sandbox("serve", "--port", port, "--db", str(tmp_path / "t.db"))
    assert_clean_failure(result, port)


@pytest.fixture
def customer(tmp_path: Path) -> tuple[Path, str, str]:
    """A db with company uid=cus-1 and its PendingAuth Xero connection."""
    db = tmp_path / "s.db"
    store = Store(db)
    company = store.create_company("Customer One", None, {UID_TAG: "cus-1"})
    connection = store.create_connection(company["id"], "gbol", "http://127.0.0.1:8765")
    store.close()
    return db, company["id"], connection["id"]


def status_of(db: Path, company_id: str, connection_id: str) -> str:
    store = Store(db)
    try:
        connection = store.get_connection(company_id, connection_id)
        assert connection is not None
        return str(connection["status"])
    finally:
        store.close()


def test_authorize_and_deauthorize_by_uid(customer: tuple[Path, str, str]) -> None:
    db, company_id, connection_id = customer
    with serve_sandbox(db) as url:
        authorized = run_sandbox("authorize", "--db", str(db), "--uid", "cus-1")
        assert authorized.returncode == 0, authorized.stderr
        assert "PendingAuth -> Linked" in authorized.stdout
        seen = conforms(httpx.get(f"{url}/companies/{company_id}", headers=basic("k")), 200)
        assert seen["dataConnections"][0]["status"] == "Linked"
        assert_clean_failure(
            run_sandbox("authorize", "--db", str(db), "--uid", "cus-1"), "no PendingAuth"
        )
        deauthorized = run_sandbox("deauthorize", "--db", str(db), "--uid", "cus-1")
        assert deauthorized.returncode == 0, deauthorized.stderr
        assert status_of(db, company_id, connection_id) == "Deauthorized"
        again = run_sandbox("authorize", "--db", str(db), "--company", company_id)
        assert again.returncode == 0 and "Deauthorized -> Linked" in again.stdout


def test_authorize_a_named_connection(customer: tuple[Path, str, str]) -> None:
    db, company_id, connection_id = customer
    result = run_sandbox(
        "authorize", "--db", str(db), "--company", company_id, "--connection", connection_id
    )
    assert result.returncode == 0, result.stderr
    assert status_of(db, company_id, connection_id) == "Linked"
    assert_clean_failure(
        run_sandbox("deauthorize", "--db", str(db), "--uid", "cus-1", "--connection", "nope"),
        "nope",
    )


def test_authorize_errors_exit_1_without_traceback(customer: tuple[Path, str, str]) -> None:
    db, _, _ = customer
    assert_clean_failure(run_sandbox("authorize", "--db", str(db), "--uid", "nobody"), "nobody")
    assert_clean_failure(run_sandbox("deauthorize", "--db", str(db), "--uid", "cus-1"), "no Linked")
    assert_clean_failure(run_sandbox("authorize", "--db", str(db)), "--uid")
    assert_clean_failure(run_sandbox("authorize", "--db", str(db.parent / "none.db"), "--uid", "x"))
    store = Store(db)
    twin = store.create_company("Twin", None, {UID_TAG: "cus-1"})
    store.close()
    assert_clean_failure(run_sandbox("authorize", "--db", str(db), "--uid", "cus-1"), twin["id"])


def test_serve_retry_after_seconds_sets_injected_429s(tmp_path: Path) -> None:
    args = ("--throttle-rate", "1", "--retry-after-seconds", "7")
    with serve_sandbox(tmp_path / "s.db", *args) as url:
        key = base64.b64encode(b"k").decode()
        response = httpx.get(f"{url}/companies", headers={"Authorization": f"Basic {key}"})
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "7"
