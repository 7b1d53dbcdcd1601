"""What `reconcile apply` shows (issue 11 point 2): a progress bar on a terminal, one plain
line per customer elsewhere, results in the plan's words, a summary, and `--format json`.
Real `reconcile` subprocesses against a served sandbox; the terminal is a real pseudo-terminal.
"""

from __future__ import annotations

import asyncio
import fcntl
import io
import json
import os
import pty
import re
import struct
import subprocess
import termios
from pathlib import Path

from reconcile.cli.apply_cmd import applier
from reconcile.facts.fleet import read_live
from reconcile.planner import make_plan
from reconcile.render.style import Style
from tests.executor.helpers import (
    PROJECT_ROOT,
    client,
    command_env,
    desired,
    run_reconcile,
    write_customers,
)
from tests.support.cli import reconcile_argv
from tests.support.sandbox_server import serve_sandbox
from tests.support.terminal import read_pty

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
INTERNAL_WORDS = re.compile(r"create_company|create_connection|unlink_connection|set_expense")


def run_piped(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return run_reconcile(url, "apply", *args)


def test_plain_lines_per_customer_and_a_summary_in_the_plans_words(tmp_path: Path) -> None:
    customers = write_customers(tmp_path / "c.yaml", 3)
    with serve_sandbox(tmp_path / "s.db") as url:
        result = run_piped(url, str(customers), "--auto-approve")
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    for i in (1, 2, 3):
        pattern = (  # no id: the id of a company awaiting authorization is a Link URL
            rf'cus-000{i} "Customer {i}": created company, '
            rf"created accounting connection QuickBooks Online \(qhyg\)"
        )
        assert [line for line in lines if re.fullmatch(pattern, line)], result.stderr
    assert not re.search(UUID, result.stdout + result.stderr)
    assert "\r" not in result.stderr  # no bar when stderr is not a terminal
    assert result.stdout.splitlines()[-1] == (
        "Apply complete: 6 created, 0 updated, 0 unlinked, 0 deleted; "
        "0 failed, 0 refused, 0 skipped."
    )
    assert not INTERNAL_WORDS.search(result.stdout + result.stderr)


def test_failures_and_skips_are_summarized_with_codats_correlation_id(tmp_path: Path) -> None:
    """A company deleted between plan and apply: its update fails (404, with Codat's
    correlationId), its connection is skipped saying why; the other customer is applied."""
    db = tmp_path / "s.db"
    first = write_customers(tmp_path / "c.yaml", 2, accounting_note="x")
    first.write_text(first.read_text().replace("    accounting_note: x\n", ""))
    with serve_sandbox(db) as url:
        assert run_piped(url, str(first), "--auto-approve").returncode == 0
        renamed = tmp_path / "renamed.yaml"
        renamed.write_text(first.read_text().replace("qbo", "xero").replace("Customer", "Client"))

        async def plan_delete_apply() -> tuple[int, str, str]:
            out, err = io.StringIO(), io.StringIO()
            from reconcile.desired import load

            state = load([renamed])
            async with client(url) as c:
                plan = make_plan(state, await read_live(c, state))
                victim = next(ch.company_id for ch in plan.changes if ch.uid == "cus-0001")
                assert victim is not None
                await c.request("DELETE", f"/companies/{victim}")
                code = await applier(
                    parallelism=2,
                    fail_fast=False,
                    fmt="text",
                    style=Style(),
                    out=out,
                    err=err,
                )(plan, c)
            return code, out.getvalue(), err.getvalue()

        code, out, err = asyncio.run(plan_delete_apply())
    assert code == 1
    assert "Failed (1):" in out and "Skipped (" in out
    failed_line = next(line for line in out.splitlines() if "failed to update company" in line)
    assert failed_line.startswith('  cus-0001 "Client 1": failed to update company: ')
    assert "404" in failed_line and "correlationId" in failed_line
    assert (
        "skipped: delete accounting connection QuickBooks Online (qhyg): an earlier action of "
        "this customer failed"
    ) in out
    assert out.splitlines()[-1] == (
        "Apply complete: 1 created, 1 updated, 0 unlinked, 1 deleted; "
        "1 failed, 0 refused, 2 skipped."
    )
    assert re.search(r'cus-0002 "Client 2": updated company, deleted accounting', err), err


def test_json_result_document(tmp_path: Path) -> None:
    customers = write_customers(tmp_path / "c.yaml", 2)
    with serve_sandbox(tmp_path / "s.db") as url:
        result = run_piped(url, str(customers), "--auto-approve", "--format", "json")
        again = run_piped(url, str(customers), "--auto-approve", "--format", "json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["format_version"] == "1" and doc["status"] == "complete"
    assert doc["exit_code"] == 0 and doc["quota"] is None
    assert doc["summary"] == {
        "created": 4,
        "updated": 0,
        "unlinked": 0,
        "deleted": 0,
        "failed": 0,
        "refused": 0,
        "skipped": 0,
        "not_started": 0,
        "refused_by_plan": 0,
    }
    assert doc["plan_refusals"] == []
    first = doc["customers"][0]
    assert first["uid"] == "cus-0001" and first["company_id"] is None  # only with --link-urls
    assert [(a["kind"], a["status"]) for a in first["actions"]] == [
        ("create_company", "applied"),
        ("create_connection", "applied"),
    ]
    created = first["actions"][1]
    assert created["result"] == "created accounting connection QuickBooks Online (qhyg)"
    assert re.fullmatch(UUID, created["connection_id"]) and created["link_url"] is None
    assert "will be created" in result.stderr  # the plan goes to stderr with json
    assert json.loads(again.stdout)["customers"] == []


def apply_on_a_terminal(tmp_path: Path, columns: int) -> str:
    """`reconcile apply` on a pseudo-terminal `columns` wide (stdin, stdout and stderr)."""
    customers = write_customers(tmp_path / "c.yaml", 6)
    with serve_sandbox(tmp_path / "s.db", "--latency-ms", "150") as url:
        main, secondary = pty.openpty()
        fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 30, columns, 0, 0))
        env = command_env(url)
        env.pop("NO_COLOR")
        process = subprocess.Popen(
            reconcile_argv("apply", str(customers), "--auto-approve", "--parallelism", "2"),
            stdin=secondary,
            stdout=secondary,
            stderr=secondary,
            env=env,
            cwd=PROJECT_ROOT,
        )
        os.close(secondary)
        try:
            raw = read_pty(main, process, timeout=90)
            assert process.wait(timeout=30) == 0
        finally:
            os.close(main)
    return raw.decode()


def test_a_progress_bar_on_a_terminal(tmp_path: Path) -> None:
    shown = apply_on_a_terminal(tmp_path, 100)
    bars = re.findall(r"\rApplying \[[#-]{20}\] (\d+)/12 actions, (\d+) failed", shown)
    assert bars, shown
    done = [int(d) for d, _failed in bars]
    assert done[0] == 0 and done[-1] == 12 and done == sorted(done)
    assert re.search(r"\d+\.\d/s, ETA \d+:\d\d\x1b\[K", shown)
    assert "\r\x1b[K" in shown  # the bar is cleared before the summary
    assert "Apply complete: 12 created" in shown
    assert "created company" not in shown  # no per-customer lines on a terminal
    assert not INTERNAL_WORDS.search(shown)


def test_the_bar_fits_a_narrow_terminal(tmp_path: Path) -> None:
    """A line wider than the terminal would wrap, and the carriage return could not redraw it."""
    shown = apply_on_a_terminal(tmp_path, 40)
    drawn = re.findall(r"\r(Applying [^\r\x1b]*)\x1b\[K", shown)
    assert drawn and all(len(line) <= 39 for line in drawn), drawn


def test_a_heartbeat_while_nothing_finishes(tmp_path: Path) -> None:
    """A long wait (slow answers here; retries alike) still prints a line every `heartbeat`."""
    state = desired(1)
    with serve_sandbox(tmp_path / "s.db", "--latency-ms", "1500") as url:

        async def go() -> str:
            err = io.StringIO()
            async with client(url) as c:
                plan = make_plan(state, await read_live(c, state))
                code = await applier(
                    parallelism=1,
                    fail_fast=False,
                    fmt="text",
                    style=Style(),
                    heartbeat=0.5,
                    out=io.StringIO(),
                    err=err,
                )(plan, c)
            assert code == 0
            return err.getvalue()

        err = asyncio.run(go())
    beats = [line for line in err.splitlines() if line.startswith("Still applying: ")]
    assert beats, err
    assert re.fullmatch(
        r"Still applying: [0-2] of 2 actions done, 0 failed, \d+ s elapsed, .*\.", beats[0]
    )


def test_names_from_codat_are_escaped_in_progress_and_summary(tmp_path: Path) -> None:
    """An offboarded company's name comes from Codat: it can neither add a line nor reach the
    terminal raw (issue 10 point 4, for apply's output)."""
    from reconcile.sandbox.store import Store

    db = tmp_path / "s.db"
    hostile = "Evil\x1b]52;c;aGk=\x07\nApply complete: 0 created"
    store = Store(db)
    try:
        company = store.create_company(
            hostile, None, {"reconcile.owner": "apply-test", "reconcile.uid": "cus-9999"}
        )
        conn = store.create_connection(company["id"], "gbol", "http://127.0.0.1:8765")
        store.set_connection_status(company["id"], conn["id"], "Linked")
    finally:
        store.close()
    customers = write_customers(tmp_path / "c.yaml", 1)
    # policy prune (issue 15): a Linked company that left the file is offboarded, named by Codat
    text = customers.read_text()
    customers.write_text(text.replace("customers:", "policy: {prune: true}\ncustomers:", 1))
    with serve_sandbox(db) as url:
        result = run_piped(url, str(customers), "--auto-approve")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "\x1b" not in result.stdout + result.stderr and "\x07" not in result.stderr
    (line,) = [line for line in result.stderr.splitlines() if line.startswith("cus-9999")]
    assert line == (
        'cus-9999 "Evil\\x1b]52;c;aGk=\\x07\\nApply complete: 0 created": '
        "unlinked accounting connection Xero (gbol)"
    )
    assert [ln for ln in result.stdout.splitlines() if ln.startswith("Apply complete")] == [
        "Apply complete: 2 created, 0 updated, 1 unlinked, 0 deleted; "
        "0 failed, 0 refused, 0 skipped."
    ]
