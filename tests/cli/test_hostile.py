"""The real `reconcile` command against a hostile Codat: every crafted answer ends in one clear
error line and exit 1, with no traceback and nothing sent but GETs (issue 10, points 1 and 2)."""

from __future__ import annotations

import itertools
import json
import socket
import subprocess
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import codat_env, reconcile_argv
from tests.support.cli import reconcile as run_reconcile
from tests.support.hostile_server import (
    Reply,
    Route,
    Seen,
    companies_route,
    company,
    connection,
    not_found,
    page,
    serve_hostile,
)
from tests.support.sandbox_server import serve_sandbox

OWNER = "hostile-test"
KEY = "hostile-key-never-shown"
PREFIX = "Error: GET /companies: unexpected answer from Codat: "
OTHER = str(uuid.uuid4())
PATH_ID = f"../../companies/{OTHER}/connections/{uuid.uuid4()}#"
DESIRED = f"""\
version: 1
owner: {OWNER}
customers:
  - uid: cus-1
    name: Acme
    accounting: xero
    expenses: true
  - uid: cus-2
    name: Globex
"""


def reconcile(*args: str, url: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_reconcile(*args, env=codat_env(url, KEY), cwd=cwd, timeout=120)


def without(body: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != key}


def nested(depth: int) -> bytes:
    return b'{"totalResults": 1, "results": ' + b"[" * depth + b"]" * depth + b"}"


def nested_tag(depth: int) -> bytes:
    """A tag value nested as deep as the decoder allows (the rest of the tool must cope)."""
    value = b"[" * depth + b"]" * depth
    good = page([company()])
    good["results"][0]["tags"] = {"k": "PLACEHOLDER"}
    return json.dumps(good).encode().replace(b'"PLACEHOLDER"', value)


def growing() -> Callable[[Seen], Reply]:
    """A full first page, then a second: totalResults grows with every request."""
    full = [company(uid=f"cus-{i}") for i in range(5000)]
    counter = itertools.count(1)

    def answer(seen: Seen) -> Reply:
        total = 5000 + next(counter)
        if seen.query.get("page") == ["2"]:
            return Reply(200, page([company(uid="late")], total))
        return Reply(200, page(full, total))

    return answer


A = company(uid="cus-1")
CASES: dict[str, tuple[Reply | Callable[[Seen], Reply], str]] = {
    "company id is a path": (
        Reply(200, page([company(id=PATH_ID)])),
        "results[0].id should be a UUID, got a string '../../companies/",
    ),
    "connection id is a path": (
        Reply(200, page([company(dataConnections=[connection(id=PATH_ID)])])),
        "results[0].dataConnections[0].id should be a UUID, got a string '../../companies/",
    ),
    "id null": (Reply(200, page([company(id=None)])), "results[0].id should be a UUID, got null"),
    "id a number": (Reply(200, page([company(id=7)])), "results[0].id should be a UUID"),
    "tags a list": (
        Reply(200, page([company(tags=["a"])])),
        "results[0].tags should be an object, got a list ['a']",
    ),
    "tag value an object": (
        Reply(200, page([company(tags={"reconcile.owner": {"x": 1}})])),
        "results[0].tags['reconcile.owner'] should be a string, got an object",
    ),
    "dataConnections [1]": (
        Reply(200, page([company(dataConnections=[1])])),
        "results[0].dataConnections[0] should be an object, got a number 1",
    ),
    "dataConnections an object": (
        Reply(200, page([company(dataConnections={"id": "x"})])),
        "results[0].dataConnections should be a list, got an object",
    ),
    "answer {a: 1}": (Reply(200, {"a": 1}), "totalResults is missing"),
    "answer a list": (Reply(200, [1, 2]), "the body should be an object, got a list"),
    "results an object": (
        Reply(200, {"totalResults": 1, "results": {"a": 1}}),
        "results should be a list, got an object",
    ),
    "totalResults a string": (
        Reply(200, {"totalResults": "1", "results": []}),
        "totalResults should be a count",
    ),
    "connection without id": (
        Reply(200, page([company(dataConnections=[without(connection(), "id")])])),
        "results[0].dataConnections[0].id is missing",
    ),
    "connection without status": (
        Reply(200, page([company(dataConnections=[without(connection(), "status")])])),
        "results[0].dataConnections[0].status is missing",
    ),
    "company without name": (
        Reply(200, page([without(company(), "name")])),
        "results[0].name is missing",
    ),
    "deeply nested JSON": (Reply(200, nested(200_000)), "JSON nested too deeply to read"),
    "nested just under the limit": (
        Reply(200, nested_tag(800)),
        "results[0].tags.k should be a string, got a list [[[...]]]",
    ),
    "not JSON": (Reply(200, b"<html>not codat</html>", {"Content-Type": "text/html"}), "not JSON"),
    "totalResults 2 with one result": (
        Reply(200, page([A], total=2)),
        "totalResults is 2 but 1 company was listed",
    ),
    "a repeated id": (Reply(200, page([A, A])), f"company {A['id']} is listed twice"),
    "a growing count": (growing(), "totalResults kept changing while the pages were read"),
    "a lone surrogate in a name": (
        Reply(200, page([company(name="Acme \ud800")])),
        "results[0].name should be text (it holds a lone surrogate",
    ),
    "a lone surrogate in a tag key": (
        Reply(200, page([company(tags={"reconcile.owner": OWNER, "\udfff": "x"})])),
        "results[0].tags should be an object with text keys",
    ),
    "endless paging": (
        Reply(200, page([company(uid=f"cus-{i}") for i in range(5000)], total=10**9)),
        "totalResults is 1,000,000,000, more than the 200,000 companies one read may hold",
    ),
    "an escape sequence in an id": (
        Reply(200, page([company(id="\x1b]52;c;aGk=\x07")])),
        "results[0].id should be a UUID, got a string '\\x1b]52;c;aGk=\\x07'",
    ),
}


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, result.stdout + result.stderr
    output = result.stdout + result.stderr
    assert "Traceback" not in output
    assert "\x1b" not in output and KEY not in output
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error")]
    assert len(errors) == 1, result.stderr
    return errors[0]


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_plan_refuses_a_hostile_answer(tmp_path: Path, case: str) -> None:
    answer, expected = CASES[case]
    (tmp_path / "customers.yaml").write_text(DESIRED)
    with serve_hostile(companies_route(answer)) as codat:
        result = reconcile("plan", "customers.yaml", url=codat.url, cwd=tmp_path)
    line = one_error_line(result)
    assert line.startswith(PREFIX), line
    assert expected in line, line
    assert len(line) < 400, line
    assert codat.methods == {"GET"}


@pytest.mark.parametrize("case", ["company id is a path", "connection id is a path"])
def test_apply_writes_nothing_for_a_hostile_id(tmp_path: Path, case: str) -> None:
    """The reported attack: an id that is a path sent a PATCH to another company."""
    answer, expected = CASES[case]
    (tmp_path / "customers.yaml").write_text(DESIRED.replace("expenses: true", "expenses: false"))
    with serve_hostile(companies_route(answer)) as codat:
        result = reconcile("apply", "customers.yaml", "--auto-approve", url=codat.url, cwd=tmp_path)
    assert expected in one_error_line(result)
    assert codat.methods == {"GET"}
    assert all(OTHER not in r.path for r in codat.requests)


def test_an_adopted_company_answered_as_another_is_refused(tmp_path: Path) -> None:
    """`id:` reads one company: an answer about a different company is not used."""
    asked, other = str(uuid.uuid4()), company(uid="cus-1")

    def route(seen: Seen) -> Reply:
        if seen.path == "/companies":
            return Reply(200, page([]))
        if seen.path == f"/companies/{asked}":
            return Reply(200, other)
        return not_found(seen)

    (tmp_path / "customers.yaml").write_text(
        DESIRED.replace("    name: Globex\n", f"    name: Globex\n    id: {asked}\n")
    )
    with serve_hostile(route) as codat:
        result = reconcile("plan", "customers.yaml", url=codat.url, cwd=tmp_path)
    line = one_error_line(result)
    assert f"GET /companies/{asked}: unexpected answer from Codat: id is {other['id']}" in line
    assert codat.methods == {"GET"}


def test_a_401_names_the_key_to_check(tmp_path: Path) -> None:
    route: Route = lambda seen: Reply(  # noqa: E731
        401, {"statusCode": 401, "error": "Unauthorized", "correlationId": "c-401"}
    )
    (tmp_path / "customers.yaml").write_text(DESIRED)
    with serve_hostile(route) as codat:
        result = reconcile("plan", "customers.yaml", url=codat.url, cwd=tmp_path)
    line = one_error_line(result)
    assert "401" in line and "CODAT_API_KEY" in line and "CODAT_API_KEY_FILE" in line
    assert "correlationId c-401" in line


def test_a_hostile_error_body_cannot_forge_lines(tmp_path: Path) -> None:
    forged = "Boom\n\nNo changes. Codat matches the file.\x1b]52;c;aGk=\x07"
    route: Route = lambda seen: Reply(  # noqa: E731
        400, {"statusCode": 400, "error": forged, "correlationId": "c\n-1"}
    )
    (tmp_path / "customers.yaml").write_text(DESIRED)
    with serve_hostile(route) as codat:
        result = reconcile("plan", "customers.yaml", url=codat.url, cwd=tmp_path)
    line = one_error_line(result)
    assert "No changes." not in result.stdout
    assert "Boom\\n\\nNo changes." in line and "c\\n-1" in line


def test_plan_stops_at_once_when_the_quota_is_used_up(tmp_path: Path) -> None:
    (tmp_path / "customers.yaml").write_text(DESIRED)
    with serve_sandbox(tmp_path / "s.db", "--daily-quota", "0") as url:
        started = time.monotonic()
        result = reconcile("plan", "customers.yaml", url=url, cwd=tmp_path)
    assert time.monotonic() - started < 30  # not six retries of 30 s
    line = one_error_line(result)
    assert "GET /companies: 429 Codat's daily quota of 0 requests is used up" in line
    assert " UTC (" in line and "local time)" in line


@pytest.mark.slow
def test_unreachable_codat_names_the_url_and_how_long_it_tried(tmp_path: Path) -> None:
    (tmp_path / "customers.yaml").write_text(DESIRED)
    with socket.create_server(("127.0.0.1", 0)) as sock:
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"  # nothing listens there once closed
    line = one_error_line(reconcile("plan", "customers.yaml", url=url, cwd=tmp_path))
    assert f"no response from Codat at {url} after 6 attempts over " in line


@pytest.mark.parametrize("args", [("--format", "json"), ("--out", "saved.plan")])
def test_a_lone_surrogate_is_refused_before_any_output(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    """It used to crash `plan --out` and `--format json` (UTF-8 cannot encode it)."""
    (tmp_path / "customers.yaml").write_text(DESIRED)
    answer = Reply(200, page([company(name="Acme \udc00")]))
    with serve_hostile(companies_route(answer)) as codat:
        result = reconcile("plan", "customers.yaml", *args, url=codat.url, cwd=tmp_path)
    assert "lone surrogate" in one_error_line(result)
    assert not (tmp_path / "saved.plan").exists()


@pytest.mark.parametrize("value", ["inf", "1e20", "Infinity"])
def test_an_endless_retry_after_is_the_quota_not_an_overflow(tmp_path: Path, value: str) -> None:
    route: Route = lambda seen: Reply(  # noqa: E731
        429, {"statusCode": 429, "error": "Too many"}, {"Retry-After": value}
    )
    (tmp_path / "customers.yaml").write_text(DESIRED)
    with serve_hostile(route) as codat:
        result = reconcile("plan", "customers.yaml", url=codat.url, cwd=tmp_path)
    line = one_error_line(result)
    assert "429 Codat's daily quota is used up" in line
    # Neither the listing nor the account read beside it is retried: a day is beyond the
    # retry budget.
    assert sorted(r.path for r in codat.requests) == ["/companies", "/profile"]


@pytest.mark.parametrize("command", ["plan", "audit", "export"])
def test_a_slow_drip_cannot_outlast_the_deadline(tmp_path: Path, command: str) -> None:
    """One byte a second: httpx's per-read timeout never fires; `--timeout` ends the run (the
    body alone would take minutes)."""
    (tmp_path / "customers.yaml").write_text(DESIRED)
    answer = Reply(200, page([company()]), drip=1.0)
    args = {
        "plan": ("plan", "customers.yaml"),
        "audit": ("audit", "customers.yaml"),
        "export": ("export", "--owner", OWNER),
    }[command]
    with serve_hostile(companies_route(answer)) as codat:
        started = time.monotonic()
        result = reconcile(*args, "--timeout", "1", url=codat.url, cwd=tmp_path)
        took = time.monotonic() - started
    line = one_error_line(result)
    assert "GET /companies: gave up at the deadline of 1 s for the whole command" in line
    assert "--timeout" in line
    assert took < 20


def test_every_command_that_talks_to_codat_has_a_default_deadline(tmp_path: Path) -> None:
    for command in ("plan", "apply", "audit", "export"):
        result = subprocess.run(
            reconcile_argv(command, "--help"),
            capture_output=True,
            text=True,
            timeout=60,
        )
        words = " ".join(result.stdout.split())
        assert "--timeout SECONDS" in words, command
        assert "[default: 3600" in words, command
