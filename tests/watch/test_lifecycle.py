"""Reload, signals and crashes of a real `reconcile watch`: an invalid file keeps the last good
one; SIGTERM/SIGINT exit as apply does; a SIGKILL mid-pass then a restart duplicates nothing."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from tests.support.cli import reconcile
from tests.watch.helpers import (
    WATCHED,
    Codat,
    connection_event,
    running_watch,
    served_codat,
    write_file,
)

pytestmark = pytest.mark.slow


def test_an_invalid_file_keeps_the_last_good_one_and_a_valid_change_is_taken(
    tmp_path: Path,
) -> None:
    with served_codat(tmp_path) as codat:
        desired = write_file(tmp_path / "customers.yaml")
        assert reconcile("apply", str(desired), "--auto-approve", env=codat.env()).returncode == 0
        with running_watch(codat, str(desired), "--resync", "1h") as watch:
            watch.wait_for("the first full pass", watch.passes_after(0))
            desired.write_text(WATCHED.replace("name: Watched Two", "name: [oops"), "utf-8")
            watch.wait_for("the reload", lambda s: not s["desired"]["valid"], timeout=10)
            error = watch.status()["desired"]["error"]
            assert "customers.yaml:" in error, error
            watch.said("still using the last good ones")

            # The last good file still drives the watch: w-1's follow-ups are made.
            assert (
                reconcile("sandbox", "authorize", "--db", str(codat.db), "--uid", "w-1").returncode
                == 0
            )
            passes = watch.status()["passes"]
            watch.deliver(connection_event(codat.company_id("w-1")))
            watch.wait_for("w-1's pass", watch.passes_after(passes))
            assert (
                sum(c["sourceType"] == "Expense" for c in codat.company("w-1")["dataConnections"])
                == 1
            )

            # A valid edit is taken: the rename waits for a review, it is not applied.
            mark = len(codat.requests())
            desired.write_text(WATCHED.replace("Watched Two", "Watched Two Ltd"), "utf-8")
            watch.wait_for(
                "the rename to wait for review",
                lambda s: s["desired"]["valid"] and s["waiting"]["review"],
                timeout=10,
            )
            review = watch.status()["waiting"]["review"]
            assert [w["uid"] for w in review] == ["w-2"], review
            assert codat.writes_since(mark) == []
            assert codat.company("w-2")["name"] == "Watched Two"

            # SIGHUP re-reads too, and starts a full pass even when nothing changed (issue 24).
            passes = watch.status()["passes"]
            watch.process.send_signal(signal.SIGHUP)
            watch.wait_for("SIGHUP's full pass", watch.passes_after(passes))
            watch.said("SIGHUP: the desired files are unchanged; running a full pass")
            assert watch.stop(signal.SIGINT) == 130
            assert "Traceback" not in watch.log()


def test_sigterm_finishes_the_pass_in_flight_and_exits_143(tmp_path: Path) -> None:
    desired, applied_writes = _applied_and_authorized(tmp_path)
    with served_codat(tmp_path, "--latency-ms", "300") as codat:
        with running_watch(codat, str(desired), "--resync", "1h") as watch:
            _wait_for_a_write_after(codat, applied_writes)
            assert watch.stop(signal.SIGTERM) == 143
            # What was sent was answered before the exit (none cut off mid-request).
            assert all(w["status"] == 200 for w in codat.writes_since(0)[applied_writes:])
            assert "SIGTERM" in watch.log() and "Traceback" not in watch.log()
        # Whatever the pass had sent landed whole; the next watch finishes the rest, once.
        with running_watch(codat, str(desired), "--resync", "1h") as watch:
            watch.wait_for("the full pass", watch.passes_after(0))
            assert watch.stop() == 143
    _assert_converged_once(tmp_path)


def test_sigkill_mid_pass_then_restart_duplicates_nothing(tmp_path: Path) -> None:
    desired, applied_writes = _applied_and_authorized(tmp_path)
    with served_codat(tmp_path, "--latency-ms", "400") as codat:
        with running_watch(codat, str(desired), "--resync", "1h") as watch:
            _wait_for_a_write_after(codat, applied_writes)
            watch.process.kill()  # SIGKILL, mid-pass: a write has been sent, others have not
            assert watch.process.wait(10) == -signal.SIGKILL
        with running_watch(codat, str(desired), "--resync", "1h") as watch:
            watch.wait_for("the full pass after the crash", watch.passes_after(0))
    _assert_converged_once(tmp_path)


def _applied_and_authorized(directory: Path) -> tuple[Path, int]:
    """The watched file, applied, both customers then authorizing as they would; and how many
    writes apply made. On a sandbox served without latency (the same state file and request
    log the test then serves slowly): the slowness is for the watch's pass, not the set-up."""
    with served_codat(directory) as codat:
        desired = write_file(directory / "customers.yaml")
        assert reconcile("apply", str(desired), "--auto-approve", env=codat.env()).returncode == 0
        applied_writes = len(codat.writes_since(0))
    for uid in ("w-1", "w-2"):
        authorized = reconcile("sandbox", "authorize", "--db", str(codat.db), "--uid", uid)
        assert authorized.returncode == 0, authorized.stderr
    return desired, applied_writes


def _wait_for_a_write_after(codat: Codat, count: int) -> None:
    deadline = time.monotonic() + 30
    while len(codat.writes_since(0)) <= count:
        assert time.monotonic() < deadline, "the watch wrote nothing"
        time.sleep(0.02)


def _assert_converged_once(directory: Path) -> None:
    """Counted on the state file served again without latency, once the slow sandbox stopped: it
    stops only after answering every request it took (a write still in its latency lands)."""
    with served_codat(directory) as codat:
        for uid in ("w-1", "w-2"):
            connections = codat.company(uid)["dataConnections"]
            assert sum(c["sourceType"] == "Expense" for c in connections) == 1, (uid, connections)
        plan = reconcile(
            "plan", str(directory / "customers.yaml"), "--detailed-exitcode", env=codat.env()
        )
        assert plan.returncode == 0, plan.stdout + plan.stderr
