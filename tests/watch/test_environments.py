"""`reconcile watch --env NAME`: one environment's customers, key, account and webhook secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import TEST_API_KEY
from tests.support.cli import reconcile
from tests.watch.helpers import new_secret, running_watch, served_codat, write_file

pytestmark = pytest.mark.slow

ACCOUNT = "Acme Expenses (staging)"


def environments_file(path: Path, url: str, account: str = ACCOUNT) -> Path:
    return write_file(
        path,
        f"""\
version: 1
owner: watch-envs
environments:
  staging: {{account: "{account}", api_key_env: CODAT_API_KEY_STAGING, base_url: "{url}"}}
customers:
  - uid: we-1
    name: Staged One
    environments: [staging]
""",
    )


def test_watch_runs_for_one_environment_with_its_own_secret(tmp_path: Path) -> None:
    with served_codat(tmp_path, "--account-name", ACCOUNT) as codat:
        path = environments_file(tmp_path / "customers.yaml", codat.url)
        secret = new_secret()
        env = {"CODAT_API_KEY_STAGING": TEST_API_KEY, "CODAT_WEBHOOK_SECRET_STAGING": secret}

        missing = reconcile(
            "watch", str(path), "--env", "staging", env={"CODAT_API_KEY_STAGING": "k"}
        )
        assert missing.returncode == 1 and "CODAT_WEBHOOK_SECRET_STAGING" in missing.stderr
        no_env = reconcile("watch", str(path), env=env)
        assert no_env.returncode == 1 and "name one with --env NAME" in no_env.stderr

        with running_watch(codat, str(path), "--env", "staging", secret=secret, env=env) as w:
            w.wait_for("a pass", lambda s: s["passes"] >= 1)
            assert w.status()["environment"] == "staging"
        assert codat.requests()[0]["path"] == "/profile"


def test_watch_of_the_wrong_account_stops_before_anything_else(tmp_path: Path) -> None:
    with served_codat(tmp_path, "--account-name", "Acme Expenses") as codat:
        path = environments_file(tmp_path / "customers.yaml", codat.url)
        env = {"CODAT_API_KEY_STAGING": TEST_API_KEY, "CODAT_WEBHOOK_SECRET_STAGING": new_secret()}
        result = reconcile(
            "watch", str(path), "--env", "staging", "--listen", "127.0.0.1:0", env=env
        )
        assert result.returncode == 1, result.stderr
        assert "Acme Expenses (staging)" in result.stderr and "Traceback" not in result.stderr
        assert [(r["method"], r["path"]) for r in codat.requests()] == [("GET", "/profile")]
