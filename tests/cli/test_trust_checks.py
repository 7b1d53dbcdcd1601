"""Trusted settings end to end: a pull request's file, or a re-signed plan, never picks where a key
goes. A served sandbox plays production; a loopback server records every request it receives
(with its credentials), so each attack is shown to send it nothing, and each control shows the
same setup would reach it."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconcile.plans.file.document import canonical
from reconcile.plans.file.signing import SigningKey
from tests.plans.file.saved_support import TEST_SIGNING_KEY, ok, reconcile, unique_owner
from tests.plans.file.test_saved_apply import Served
from tests.support.hostile_server import HostileCodat, not_found, serve_hostile
from tests.support.sandbox_server import serve_sandbox

PROD = "Acme Expenses"
PROD_KEY = "prod-api-key-of-the-ci"
KEYS = {"CODAT_API_KEY_PROD": PROD_KEY}

FILE = """\
version: 1
owner: {owner}
environments:
  prod:
    account: "{account}"
    api_key_env: {key_env}
    base_url: "{url}"
customers:
  - uid: {owner}-1
    name: Trusted Ltd
"""


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("trust")
    db, log = root / "sandbox.db", root / "requests.jsonl"
    with serve_sandbox(db, "--account-name", PROD, "--request-log", str(log)) as url:
        yield Served(url, db, log)


@pytest.fixture
def recorder() -> Iterator[HostileCodat]:
    with serve_hostile(not_found) as server:
        yield server


def write(path: Path, owner: str, url: str, key_env: str = "CODAT_API_KEY_PROD") -> Path:
    return put(path, FILE.format(owner=owner, account=PROD, key_env=key_env, url=url))


def put(path: Path, text: str) -> Path:
    """`text` at `path` (a checkout of its own: its folder made)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = reconcile(*args, url=None, key=None, env={**KEYS, **(env or {})})
    assert "Traceback" not in result.stderr
    return result.returncode, result.stderr


def secrets_sent(server: HostileCodat) -> set[str]:
    """Every credential the recording server received, decoded."""
    out = set()
    for seen in server.requests:
        header = {k.lower(): v for k, v in seen.headers.items()}.get("authorization", "")
        if header.startswith("Basic "):
            out.add(base64.b64decode(header[6:]).decode())
    return out


@pytest.mark.parametrize(
    ("key_env", "expected"),
    [
        ("CODAT_API_KEY_PROD", ":7:15: environment 'prod': base_url differs from the base files"),
        ("RECONCILE_SIGNING_KEY", "api_key_env 'RECONCILE_SIGNING_KEY' is invalid"),
    ],
    ids=["base-url", "signing-key-variable"],
)
def test_a_pull_request_cannot_point_prod_at_its_own_server(
    tmp_path: Path, served: Served, recorder: HostileCodat, key_env: str, expected: str
) -> None:
    owner = unique_owner("trust")
    base = write(tmp_path / "base" / "customers.yaml", owner, served.url)
    pr = write(tmp_path / "pr" / "customers.yaml", owner, recorder.url, key_env)
    code, err = run("plan", str(pr), "--env", "prod", "--base", str(base))
    assert code == 1, err
    assert (f"{pr}{expected}" if key_env == "CODAT_API_KEY_PROD" else expected) in err
    assert "nothing was sent to Codat" in err
    assert recorder.requests == []

    # The control: the same pull request, with base files that agree, does reach the server
    # (with the production key): the refusal above is what kept it away.
    if key_env == "CODAT_API_KEY_PROD":
        agreeing = write(tmp_path / "agreeing" / "customers.yaml", owner, recorder.url)
        run("plan", str(pr), "--env", "prod", "--base", str(agreeing))
        assert secrets_sent(recorder) == {PROD_KEY}


def test_a_pull_request_that_agrees_with_the_base_plans_against_the_base_account(
    tmp_path: Path, served: Served, recorder: HostileCodat
) -> None:
    owner = unique_owner("trust")
    base = write(tmp_path / "base" / "customers.yaml", owner, served.url)
    added = base.read_text() + "  - uid: " + owner + "-2\n    name: Added Ltd\n"
    pr = put(tmp_path / "pr" / "customers.yaml", added)
    code, err = run("plan", str(pr), "--env", "prod", "--base", str(base))
    assert code == 0, err
    assert recorder.requests == []


def test_an_environment_added_or_removed_by_a_pull_request_is_refused(
    tmp_path: Path, served: Served, recorder: HostileCodat
) -> None:
    owner = unique_owner("trust")
    base = write(tmp_path / "base" / "customers.yaml", owner, served.url)
    staging = (
        f'  staging: {{account: "{PROD}", api_key_env: CODAT_API_KEY_PROD,'
        f' base_url: "{recorder.url}"}}\ncustomers:'
    )
    added = put(
        tmp_path / "added" / "customers.yaml", base.read_text().replace("customers:", staging)
    )
    code, err = run("plan", str(added), "--env", "staging", "--base", str(base))
    assert code == 1 and f"{added}:8:3: environment 'staging' is not declared in the base" in err
    code, err = run("plan", str(added), "--env", "all", "--base", str(base))
    assert code == 1 and "'staging' is not declared in the base" in err
    code, err = run("plan", str(base), "--env", "prod", "--base", str(added))
    assert code == 1 and f"{base}:3:1: environment 'staging' of the base files" in err
    assert recorder.requests == []


@pytest.mark.parametrize("where", ["option", "variable"])
def test_a_base_url_off_codat_needs_the_command_lines_word(tmp_path: Path, where: str) -> None:
    owner = unique_owner("trust")
    # Not loopback (0.0.0.0 is not), and nothing listens on port 1: a run let through fails
    # at once on the connection, after the check this test is about.
    url = "https://0.0.0.0:1"
    path = write(tmp_path / "customers.yaml", owner, url)
    code, err = run("plan", str(path), "--env", "prod")
    assert code == 1
    assert f"{path}:7:15: environment 'prod': base_url \"{url}\" is not Codat's API" in err
    assert f'--allow-base-url "{url}" (or RECONCILE_ALLOW_BASE_URL)' in err

    # The control: the command line allows it, and the run gets past the check.
    allow = ("--allow-base-url", url) if where == "option" else ()
    env = {"RECONCILE_ALLOW_BASE_URL": url} if where == "variable" else {}
    code, err = run("plan", str(path), "--env", "prod", "--timeout", "3", *allow, env=env)
    assert code == 1 and "is not Codat's API" not in err, err


def test_base_files_do_not_allow_a_host_off_codat_either(tmp_path: Path) -> None:
    """A maintainer's base files are trusted for where the key goes, but only the command line
    lets it go off Codat's API: the job must say so too."""
    owner = unique_owner("trust")
    url = "https://0.0.0.0:1"
    base = write(tmp_path / "base" / "customers.yaml", owner, url)
    pr = write(tmp_path / "pr" / "customers.yaml", owner, url)
    code, err = run("plan", str(pr), "--env", "prod", "--base", str(base))
    assert code == 1 and f"{pr}:7:15: environment 'prod': base_url" in err
    assert "is not Codat's API" in err
    # The control: allowed on the command line, the run gets past the check.
    code, err = run(
        "plan",
        str(pr),
        "--env",
        "prod",
        "--base",
        str(base),
        "--allow-base-url",
        url,
        "--timeout",
        "3",
    )
    assert code == 1 and "is not Codat's API" not in err, err


def saved_prod_plan(tmp_path: Path, served: Served) -> tuple[Path, Path]:
    owner = unique_owner("trust")
    path = write(tmp_path / "customers.yaml", owner, served.url)
    planfile = tmp_path / "prod.plan"
    ok(
        reconcile(
            "plan", str(path), "--env", "prod", "--out", str(planfile), url=None, key=None, env=KEYS
        )
    )
    return path, planfile


def resign(planfile: Path, **environment: str) -> None:
    """Someone holding the signing key rewrites the plan's environment, and signs it."""
    doc = json.loads(planfile.read_text())
    doc["environment"].update(environment)
    if "base_url" in environment:
        doc["base_url"] = environment["base_url"]
    doc["checksum"] = SigningKey(TEST_SIGNING_KEY.encode(), "test").mac(canonical(doc))
    planfile.write_text(json.dumps(doc))


@pytest.mark.parametrize(
    "change",
    [
        {"base_url": "RECORDER"},
        {"base_url": "RECORDER", "api_key_env": "RECONCILE_SIGNING_KEY"},
        {"api_key_env": "RECONCILE_SIGNING_KEY"},
    ],
    ids=["base-url", "both", "key-variable"],
)
def test_apply_plan_takes_the_environment_from_the_files_never_the_plan(
    tmp_path: Path, served: Served, recorder: HostileCodat, change: dict[str, str]
) -> None:
    path, planfile = saved_prod_plan(tmp_path, served)
    resign(planfile, **{k: recorder.url if v == "RECORDER" else v for k, v in change.items()})
    mark = served.mark()
    code, err = run("apply", "--plan", str(planfile), str(path), "--env", "prod")
    assert code == 1
    assert 'records environment "prod" with another' in err and "nothing was sent" in err
    code, err = run("apply", "--plan", str(planfile), "--env", "prod")  # without the files
    assert code == 1 and "give the customers files too" in err
    assert recorder.requests == [] and served.since(mark) == []


def test_apply_plan_whose_environment_agrees_with_the_files_runs(
    tmp_path: Path, served: Served, recorder: HostileCodat
) -> None:
    """The control: the same plan, re-signed the same way without changing the environment,
    is applied (so the refusals above are the environment's, not the re-signing's)."""
    path, planfile = saved_prod_plan(tmp_path, served)
    resign(planfile)
    mark = served.mark()
    code, err = run("apply", "--plan", str(planfile), str(path), "--env", "prod")
    assert code == 0, err
    assert served.writes_since(mark)  # the plan's create landed
    assert recorder.requests == []


@pytest.mark.parametrize("name", ["plan", "apply", "audit", "converge", "watch", "export"])
def test_every_command_that_talks_to_codat_takes_allow_base_url(name: str) -> None:
    from reconcile.cli import load_command

    options = {opt for param in load_command(name).params for opt in param.opts}
    assert "--allow-base-url" in options
    assert "--allow-base-url" not in {o for p in load_command("validate").params for o in p.opts}
