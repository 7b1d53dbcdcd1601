"""Bearer links never reach a shared output (issue 22): a company id of a company awaiting
authorization is a Link URL (Codat's `redirect`), and so is a connection's `linkUrl`. `apply`
writes them to `--link-urls-out FILE` (mode 0600) and shows them with `--link-urls` on a
terminal only; its standard output without a terminal (a CI log), the plan's Markdown (the
pull-request comment), the text plan and the audit's Markdown (the issue) hold neither. Real
subprocesses against the served sandbox; each test's control finds the ids where they belong,
so the searches can fail."""

from __future__ import annotations

import json
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from reconcile import escape
from tests.executor.helpers import command_env
from tests.plans.file.saved_support import ROOT, customers_file, ok, reconcile, unique_owner
from tests.support.cli import reconcile_argv
from tests.support.terminal import run_on_a_terminal

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


@dataclass(frozen=True)
class Applied:
    """One apply of the example (six customers, each now awaiting authorization)."""

    path: Path
    owner: str
    stdout: str
    stderr: str
    links: list[dict[str, Any]]  # the --link-urls-out file
    mode: int

    @property
    def secrets(self) -> list[str]:
        return [e["company_id"] for e in self.links] + [e["link_url"] for e in self.links]


def assert_none_in(output: str, applied: Applied) -> None:
    output = output.replace("\\", "")  # Markdown's escapes (`\-`) must not hide a leak
    leaked = [s for s in applied.secrets if s in output]
    assert not leaked, f"bearer links in a shared output: {leaked}"
    assert not re.search(UUID, output), "an id in a shared output"


@pytest.fixture(scope="module")
def applied(tmp_path_factory: pytest.TempPathFactory, sandbox_url: str) -> Applied:
    directory = tmp_path_factory.mktemp("links")
    owner = unique_owner("links")
    path = customers_file(directory, owner)
    out = directory / "links.json"
    args = ("apply", str(path), "--auto-approve", "--link-urls-out", str(out))
    result = ok(reconcile(*args, url=sandbox_url))
    return Applied(
        path,
        owner,
        result.stdout,
        result.stderr,
        json.loads(out.read_text()),
        stat.S_IMODE(os.stat(out).st_mode),
    )


def test_the_link_urls_go_to_a_private_file(applied: Applied, codat: Any) -> None:
    assert applied.mode == 0o600
    assert len(applied.links) == 6
    listed = codat.get(
        "/companies", params={"tags": f"reconcile.owner={applied.owner}", "pageSize": 100}
    ).json()["results"]
    ids = {c["id"] for c in listed}
    for entry in applied.links:  # the control: real ids and real Link URLs
        assert entry["company_id"] in ids, entry
        assert re.fullmatch(UUID, entry["connection_id"]), entry
        assert entry["company_id"] in entry["link_url"] and entry["link_url"].startswith("http")
    assert f"6 Link URLs written to {applied.path.parent / 'links.json'}" in applied.stderr


def test_apply_without_a_terminal_prints_no_link_url_and_no_company_id(applied: Applied) -> None:
    assert_none_in(applied.stdout, applied)
    assert_none_in(applied.stderr, applied)  # the progress lines are a log too
    summary = applied.stdout.split("Awaiting customer authorization (6):", 1)[1]
    who = f'{applied.owner}-0001 "Sawayn Group"  accounting connection QuickBooks Online (qhyg)'
    assert who in summary  # the customer's uid identifies it
    assert "--link-urls-out FILE" in summary


def test_apply_json_leaves_them_out_unless_asked(applied: Applied, sandbox_url: str) -> None:
    # Nothing left to create: the plan's notes still list who is awaited.
    args = ("apply", str(applied.path), "--auto-approve", "--format", "json")
    result = ok(reconcile(*args, url=sandbox_url))
    assert_none_in(result.stdout + result.stderr, applied)
    document = json.loads(result.stdout)
    assert all(c["company_id"] is None for c in document["customers"])


def test_link_urls_are_refused_when_stdout_is_not_a_terminal(
    tmp_path: Path, sandbox_url: str, codat: Any
) -> None:
    owner = unique_owner("links")
    path = customers_file(tmp_path, owner)
    commands = (
        ("apply", str(path), "--auto-approve"),
        ("converge", str(path)),
        ("plan", str(path), "--format", "markdown"),
        ("audit", str(path)),
    )
    for command in commands:
        result = reconcile(*command, "--link-urls", url=sandbox_url)
        assert result.returncode == 1, command
        assert "standard output is not a terminal" in result.stderr
        to_file = "--json-out FILE" if command[0] == "audit" else "--link-urls-out FILE"
        assert to_file in result.stderr and "Traceback" not in result.stderr
        assert result.stdout == ""
    listed = codat.get("/companies", params={"tags": f"reconcile.owner={owner}"}).json()
    assert listed["results"] == []  # nothing was written to Codat


def test_link_urls_on_a_terminal_shows_them(tmp_path: Path, sandbox_url: str) -> None:
    path = customers_file(tmp_path, unique_owner("links"))
    argv = reconcile_argv("apply", str(path), "--auto-approve", "--link-urls")
    code, shown = run_on_a_terminal(argv, command_env(sandbox_url), ROOT)
    assert code == 0, shown
    summary = shown.split("Awaiting customer authorization (6):", 1)[1]
    assert len(re.findall(rf"http\S+/{UUID}/\S+", summary)) == 6
    assert re.search(rf"created company {UUID}", shown) is None  # a terminal: no per-line log


def test_the_pull_request_comment_and_the_text_plan_hold_neither(
    applied: Applied, sandbox_url: str
) -> None:
    markdown = ok(reconcile("plan", str(applied.path), "--format", "markdown", url=sandbox_url))
    assert "Awaiting customer authorization (6)" in markdown.stdout
    assert_none_in(markdown.stdout, applied)
    assert escape.markdown(f"{applied.owner}-0001") in markdown.stdout  # who waits, by uid
    text = ok(reconcile("plan", str(applied.path), url=sandbox_url))
    assert "Awaiting customer authorization (6)" in text.stdout
    assert_none_in(text.stdout + text.stderr, applied)
    as_json = ok(reconcile("plan", str(applied.path), "--format", "json", url=sandbox_url))
    assert "link_url" in as_json.stdout and not re.search(r"https?://", as_json.stdout)


def test_the_audit_issue_holds_neither(applied: Applied, sandbox_url: str) -> None:
    result = reconcile("audit", str(applied.path), "--format", "markdown", url=sandbox_url)
    assert result.returncode in (0, 2), result.stderr
    assert "Awaiting customer authorization" in result.stdout
    assert_none_in(result.stdout, applied)
    text = reconcile("audit", str(applied.path), url=sandbox_url)
    assert_none_in(text.stdout, applied)
    report = reconcile("audit", str(applied.path), "--format", "json", url=sandbox_url)
    assert_none_in(report.stdout, applied)  # every company here awaits the customer


def test_verbose_request_lines_off_a_terminal_name_no_company(
    tmp_path: Path, sandbox_url: str
) -> None:
    path = customers_file(tmp_path, unique_owner("links"))
    out = tmp_path / "links.json"
    args = ("-v", "apply", str(path), "--auto-approve", "--link-urls-out", str(out))
    result = ok(reconcile(*args, url=sandbox_url))
    assert "POST /companies/(id hidden)/connections -> 200" in result.stderr
    ids = [e["company_id"] for e in json.loads(out.read_text())]
    assert ids and not [i for i in ids if i in result.stdout + result.stderr]
    assert not re.search(UUID, result.stdout + result.stderr)
