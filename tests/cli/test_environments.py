"""Environments end to end: two served sandboxes stand for a test and a production account."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from reconcile.sandbox.layers.requestlog import read_log
from tests.conftest import AUTH_HEADERS
from tests.plans.file.saved_support import ok, reconcile, refused
from tests.support.sandbox_server import serve_sandbox

TEST_ACCOUNT, PROD_ACCOUNT = "Acme Expenses (test)", "Acme Expenses"

FILE = """\
version: 1
owner: acme-envs
environments:
  test: {{account: "{test}", api_key_env: CODAT_API_KEY_TEST, base_url: "{test_url}"}}
  prod: {{account: "{prod}", api_key_env: CODAT_API_KEY_PROD, base_url: "{prod_url}"}}
promote: [test, prod]
customers:
  - uid: env-0001
    name: Everywhere Ltd
    accounting: xero
    tags: {{tier: gold}}
    overrides:
      test: {{accounting: quickbooks-online, tags: {{tier: trial}}}}
  - uid: env-0002
    name: Only Test Ltd
    environments: [test]
  - uid: env-0003
    name: Prod Only Ltd
    environments: [prod]
    overrides:
      prod: {{protect: true}}
"""


@pytest.fixture(scope="module")
def accounts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    base = tmp_path_factory.mktemp("envs")
    logs = {"test": base / "test.jsonl", "prod": base / "prod.jsonl"}
    with (
        serve_sandbox(
            base / "test.db", "--account-name", TEST_ACCOUNT, "--request-log", str(logs["test"])
        ) as test_url,
        serve_sandbox(
            base / "prod.db", "--account-name", PROD_ACCOUNT, "--request-log", str(logs["prod"])
        ) as prod_url,
    ):
        path = base / "customers.yaml"
        path.write_text(
            FILE.format(test=TEST_ACCOUNT, prod=PROD_ACCOUNT, test_url=test_url, prod_url=prod_url)
        )
        yield {"file": path, "urls": {"test": test_url, "prod": prod_url}, "logs": logs}


KEYS = {"CODAT_API_KEY_TEST": "test-key", "CODAT_API_KEY_PROD": "prod-key"}


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`reconcile ARGS` with both environments' keys, and no CODAT_* variable at all."""
    return reconcile(*args, url=None, key=None, env={**KEYS, **(env or {})})


def added(
    accounts: dict[str, object], path: Path, uid: str, name: str, environments: str = ""
) -> Path:
    """The accounts' file with one more customer (in `environments`, a YAML list, when given)
    written to `path`."""
    text = Path(accounts["file"]).read_text()  # type: ignore[arg-type]
    text += f"  - uid: {uid}\n    name: {name}\n"
    path.write_text(text + (f"    environments: {environments}\n" if environments else ""))
    return path


def companies(url: str) -> dict[str, dict[str, object]]:
    with httpx.Client(base_url=url, headers=AUTH_HEADERS) as client:
        listed = client.get(
            "/companies", params={"pageSize": 5000, "tags": "reconcile.owner=acme-envs"}
        ).json()
    out = {}
    for company in listed["results"]:
        out[company["tags"]["reconcile.uid"]] = company
    return out


@pytest.mark.slow
def test_each_environment_gets_its_customers_and_overrides(accounts: dict[str, object]) -> None:
    path = str(accounts["file"])
    urls: dict[str, str] = accounts["urls"]  # type: ignore[assignment]
    for env in ("test", "prod"):
        ok(run("apply", path, "--env", env, "--auto-approve"))
        ok(run("plan", path, "--env", env, "--detailed-exitcode"))  # converged: exit 0

    test, prod = companies(urls["test"]), companies(urls["prod"])
    assert set(test) == {"env-0001", "env-0002"}
    assert set(prod) == {"env-0001", "env-0003"}
    keys = {uid: [c["integrationKey"] for c in co["dataConnections"]] for uid, co in test.items()}
    assert keys["env-0001"] == ["qhyg"]  # the test override
    assert [c["integrationKey"] for c in prod["env-0001"]["dataConnections"]] == ["gbol"]
    assert test["env-0001"]["tags"]["tier"] == "trial"
    assert prod["env-0001"]["tags"]["tier"] == "gold"
    assert prod["env-0003"]["tags"].get("reconcile.protect") == "true"

    both = run("plan", path, "--env", "all", "--format", "json", "--detailed-exitcode")
    ok(both)  # nothing left to do anywhere: exit 0
    doc = json.loads(both.stdout)
    assert [(e["name"], e["account"], e["customers"]) for e in doc["environments"]] == [
        ("test", TEST_ACCOUNT, 2),
        ("prod", PROD_ACCOUNT, 2),
    ]
    assert all(sum(e["summary"].values()) == 0 for e in doc["environments"])


@pytest.mark.slow
def test_plan_all_shows_what_reaches_production_and_writes_nothing(
    accounts: dict[str, object], tmp_path: Path
) -> None:
    changed = added(accounts, tmp_path / "changed.yaml", "env-0004", "New Everywhere Ltd")
    logs: dict[str, Path] = accounts["logs"]  # type: ignore[assignment]
    before = {env: len(read_log(log)) if log.exists() else 0 for env, log in logs.items()}
    table = run("plan", str(changed), "--env", "all", "--detailed-exitcode")
    assert table.returncode == 2, table.stdout + table.stderr
    rows = {line.split()[0]: line.split() for line in table.stdout.splitlines()[1:]}
    assert rows["test"][1:] == ["Acme", "Expenses", "(test)", "3", "1", "0", "0", "0", "0", "0"]
    assert rows["prod"][1:] == ["Acme", "Expenses", "3", "1", "0", "0", "0", "0", "0"]
    for env, log in logs.items():
        new = read_log(log)[before[env] :]
        assert {entry["method"] for entry in new} == {"GET"}, new
        assert new[0]["path"] == "/profile"
    saving = refused(run("plan", str(changed), "--env", "all", "--out", str(tmp_path / "p")))
    assert "name it with --env NAME" in saving


@pytest.mark.slow
def test_a_key_of_the_wrong_account_is_refused_before_any_other_request(
    accounts: dict[str, object],
) -> None:
    path = str(accounts["file"])
    logs: dict[str, Path] = accounts["logs"]  # type: ignore[assignment]
    urls: dict[str, str] = accounts["urls"]  # type: ignore[assignment]
    # The production job given the test account's address (or key): nothing is read.
    text = Path(path).read_text().replace(urls["prod"], urls["test"])
    wrong = Path(path).with_name("wrong.yaml")
    wrong.write_text(text)
    before = len(read_log(logs["test"])) if logs["test"].exists() else 0
    for command in (("plan",), ("apply", "--auto-approve"), ("audit",)):
        message = refused(run(*command, str(wrong), "--env", "prod"))
        assert TEST_ACCOUNT in message and PROD_ACCOUNT in message
        assert "nothing was read or written" in message
    after = read_log(logs["test"])[before:]
    assert [(e["method"], e["path"]) for e in after] == [("GET", "/profile")] * 3


def test_env_choice_is_required_checked_and_only_where_declared(
    accounts: dict[str, object], tmp_path: Path
) -> None:
    path = str(accounts["file"])
    assert "name one with --env NAME" in refused(run("plan", path))
    assert "not declared" in refused(run("plan", path, "--env", "staging"))
    assert "use one of test, prod" in refused(run("apply", path, "--env", "qa"))
    missing = refused(reconcile("plan", path, "--env", "prod", url=None, key=None))
    assert "set CODAT_API_KEY_PROD (or CODAT_API_KEY_PROD_FILE)" in missing
    plain = tmp_path / "plain.yaml"
    plain.write_text("version: 1\nowner: plain\ncustomers: []\n")
    assert "declares no environments" in refused(run("plan", str(plain), "--env", "prod"))
    valid = ok(run("validate", path))
    assert "3 customers, owner acme-envs; test: 2; prod: 2" in valid.stdout


def test_the_key_may_come_from_a_file(accounts: dict[str, object], tmp_path: Path) -> None:
    key = tmp_path / "key"
    key.write_text("prod-key\n")
    result = reconcile(
        "plan",
        str(accounts["file"]),
        "--env",
        "prod",
        url=None,
        key=None,
        env={"CODAT_API_KEY_PROD_FILE": str(key)},
    )
    ok(result, 0, 2)
    assert "environment prod" in result.stderr


@pytest.mark.slow
def test_export_reads_the_named_environment_only(accounts: dict[str, object]) -> None:
    path = str(accounts["file"])
    ok(run("apply", path, "--env", "prod", "--auto-approve"))
    exported = ok(
        run("export", "--owner", "acme-envs", "--env", "prod", "--environments-from", path)
    )
    assert "uid: env-0003" in exported.stdout and "uid: env-0002" not in exported.stdout
    message = refused(run("export", "--owner", "acme-envs", "--env", "prod"))
    assert "--env needs --environments-from PATH" in message


@pytest.mark.slow
def test_a_saved_plan_is_applied_only_to_its_own_environment(
    accounts: dict[str, object], tmp_path: Path
) -> None:
    changed = added(accounts, tmp_path / "customers.yaml", "env-0005", "Saved Plan Ltd", "[test]")
    saved = tmp_path / "test.plan"
    signing = {"RECONCILE_SIGNING_KEY": "a-signing-key-of-the-ci-only-0123456789"}
    ok(run("plan", str(changed), "--env", "test", "--out", str(saved), env=signing))
    doc = json.loads(saved.read_text())
    assert doc["environment"]["name"] == "test" and doc["account"] == TEST_ACCOUNT

    wrong = refused(run("apply", "--plan", str(saved), "--env", "prod", env=signing))
    assert 'plan for environment "test"' in wrong and 'environment "prod"' in wrong
    bare = refused(run("apply", "--plan", str(saved), env=signing))
    assert "Apply it with --env test" in bare
    urls: dict[str, str] = accounts["urls"]  # type: ignore[assignment]
    assert "env-0005" not in companies(urls["test"])  # nothing was written by the refusals

    ok(run("apply", "--plan", str(saved), str(changed), "--env", "test", env=signing))
    assert "env-0005" in companies(urls["test"])
    assert "env-0005" not in companies(urls["prod"])


@pytest.mark.slow
def test_converge_runs_for_the_named_environment(accounts: dict[str, object]) -> None:
    path = str(accounts["file"])
    logs: dict[str, Path] = accounts["logs"]  # type: ignore[assignment]
    before = len(read_log(logs["prod"])) if logs["prod"].exists() else 0
    result = run("converge", path, "--env", "prod")
    ok(result, 0, 2)
    assert "owner acme-envs, environment prod;" in result.stderr
    assert read_log(logs["prod"])[before]["path"] == "/profile"
    assert "name one with --env NAME" in refused(run("converge", path))


@pytest.mark.slow
def test_plan_all_shows_every_environment_with_the_error_in_the_failing_one(
    accounts: dict[str, object],
) -> None:
    """Issue 25: one environment that cannot be planned (here: no key for prod) no longer
    stops the table: test is planned, prod's row carries its error, and the run exits 1."""
    path = str(accounts["file"])
    only_test = reconcile(
        "plan",
        path,
        "--env",
        "all",
        url=None,
        key=None,
        env={"CODAT_API_KEY_TEST": KEYS["CODAT_API_KEY_TEST"]},
    )
    assert "not planned" not in refused(only_test)  # the table says it, on stdout
    lines = only_test.stdout.splitlines()
    rows = {line.split()[0]: line for line in lines[1:3]}
    assert set(rows) == {"test", "prod"}
    assert rows["test"].split()[-1].isdigit()  # planned: its counts
    assert "error: see below" in rows["prod"]
    assert "prod: not planned: no Codat API key for environment prod" in only_test.stdout
    doc = json.loads(
        reconcile(
            "plan",
            path,
            "--env",
            "all",
            "--format",
            "json",
            url=None,
            key=None,
            env={"CODAT_API_KEY_TEST": KEYS["CODAT_API_KEY_TEST"]},
        ).stdout
    )
    errors = {e["name"]: e["error"] for e in doc["environments"]}
    assert errors["test"] is None and "no Codat API key" in errors["prod"]
    # The control: with both keys, no row has an error and the run does not fail.
    both = ok(run("plan", path, "--env", "all"), 0, 2)
    assert "not planned" not in both.stdout and "error" not in both.stdout
