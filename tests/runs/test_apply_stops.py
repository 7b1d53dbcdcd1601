"""Stopping an apply (issue 11 points 1 and 3): Codat's daily quota used up, Ctrl-C, SIGTERM.
Each starts nothing new, lets the requests in flight finish, and prints the summary so far;
what it says was applied is exactly what Codat holds. Real `reconcile` subprocesses against a
served sandbox."""

from __future__ import annotations

import json
import queue
import re
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from tests.executor.helpers import (
    PROJECT_ROOT,
    command_env,
    companies_by_uid,
    run_reconcile,
    write_customers,
)
from tests.support.cli import reconcile_argv
from tests.support.sandbox_server import serve_sandbox


def test_quota_used_up_ends_within_seconds_saying_when_it_resets(tmp_path: Path) -> None:
    customers = write_customers(tmp_path / "c.yaml", 20)
    db = tmp_path / "s.db"
    with serve_sandbox(db, "--daily-quota", "15") as url:
        started = time.monotonic()
        result = run_reconcile(url, "apply", str(customers), "--auto-approve")
        took = time.monotonic() - started
    assert result.returncode == 1, result.stdout + result.stderr
    assert took < 10, took  # within seconds, not the retries of a day-long wait
    assert "Traceback" not in result.stderr
    out = result.stdout
    assert "Codat's daily quota is used up (15 requests a day); it resets at " in out
    reset = next(line for line in out.splitlines() if "it resets at" in line)
    assert reset.endswith(" UTC).") and "00:00 UTC" in reset
    applied = re.search(r"(\d+) actions? applied, (\d+) not started\.", out)
    assert applied, out
    assert int(applied.group(1)) > 0 and int(applied.group(2)) > 0
    assert int(applied.group(1)) + int(applied.group(2)) <= 40
    assert out.rstrip().endswith("Run apply again after the reset.")
    created = sum(1 for line in result.stderr.splitlines() if "created company" in line)
    assert sum(len(v) for v in companies_by_uid(db).values()) == created


class Running:
    """A `reconcile apply --format json` subprocess whose stderr lines arrive on a queue."""

    def __init__(self, customers: Path, url: str, *args: str) -> None:
        self.process = subprocess.Popen(
            reconcile_argv("apply", str(customers), "--auto-approve", "--format", "json", *args),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=command_env(url),
            cwd=PROJECT_ROOT,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.err: list[str] = []
        self._pump_thread = threading.Thread(target=self._pump, daemon=True)
        self._pump_thread.start()

    def _pump(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.err.append(line)
            self.lines.put(line)

    def wait_for(self, text: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if text in self.lines.get(timeout=0.5):
                    return
            except queue.Empty:
                continue
        raise AssertionError(f"{text!r} never came: {''.join(self.err)}")

    def finish(self, timeout: float = 60) -> tuple[int, str]:
        assert self.process.stdout is not None
        out = self.process.stdout.read()  # not communicate(): it would read stderr too
        self.process.wait(timeout=timeout)
        self._pump_thread.join(timeout=timeout)  # every stderr line read
        return self.process.returncode, out


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_an_interrupt_finishes_in_flight_prints_the_summary_and_exits(
    tmp_path: Path, signum: int, code: int
) -> None:
    customers = write_customers(tmp_path / "c.yaml", 30)
    db = tmp_path / "s.db"
    with serve_sandbox(db, "--latency-ms", "200") as url:
        links = tmp_path / "links.json"
        run = Running(customers, url, "--parallelism", "3", "--link-urls-out", str(links))
        run.wait_for("created company")  # a customer finished: the apply is under way
        run.process.send_signal(signum)
        returncode, out = run.finish()
    assert returncode == code, "".join(run.err)
    doc = json.loads(out)
    assert doc["status"] == ("interrupted" if signum == signal.SIGINT else "terminated")
    assert doc["exit_code"] == code
    assert doc["summary"]["not_started"] > 0 and doc["summary"]["created"] > 0
    made = [c for c in doc["customers"] if c["actions"][0]["status"] == "applied"]
    # What it says it created is what Codat holds: the in-flight ones finished and are counted.
    held = companies_by_uid(db)
    assert sorted(held) == sorted(c["uid"] for c in made)
    # The ids are in the private file only (a company awaiting authorization: a Link URL).
    assert all(c["company_id"] is None for c in doc["customers"])
    connected = {c["uid"] for c in made if c["actions"][-1]["status"] == "applied"}
    listed = {e["uid"]: e["company_id"] for e in json.loads(links.read_text())}
    assert set(listed) == connected and connected
    assert all(listed[uid] == held[uid][0]["id"] for uid in connected)
    stderr = "".join(run.err)
    assert "Stopping: starting nothing new" in stderr
    assert "Traceback" not in stderr


def test_a_second_ctrl_c_exits_at_once(tmp_path: Path) -> None:
    customers = write_customers(tmp_path / "c.yaml", 10)
    with serve_sandbox(tmp_path / "s.db", "--latency-ms", "3000") as url:
        run = Running(customers, url, "--parallelism", "2")
        run.wait_for("Applying")
        time.sleep(0.5)  # requests in flight, answers 3 s away
        run.process.send_signal(signal.SIGINT)
        run.wait_for("Stopping")
        sent = time.monotonic()
        run.process.send_signal(signal.SIGINT)
        returncode, _out = run.finish()
        took = time.monotonic() - sent
    assert returncode == 130
    assert took < 2.0, took
    assert "Exiting at once" in "".join(run.err)
