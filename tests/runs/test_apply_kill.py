"""SIGKILL an apply at random moments, then apply again (issue 11 point 3): it converges with
no duplicated company and nothing unlinked or deleted that no plan named. Real `reconcile`
subprocesses against a served sandbox with some latency."""

from __future__ import annotations

import random
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

KILLS = 12
CUSTOMERS = 200


def apply_until_applying(customers: Path, url: str) -> subprocess.Popen[str]:
    """An apply, returned once it has started writing (its progress says "Applying")."""
    process = subprocess.Popen(
        reconcile_argv("apply", str(customers), "--auto-approve", "--parallelism", "2"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=command_env(url),
        cwd=PROJECT_ROOT,
    )
    assert process.stderr is not None
    for line in process.stderr:
        if line.startswith("Applying"):
            break
    threading.Thread(target=process.stderr.read, daemon=True).start()  # keep the pipe open
    return process


@pytest.mark.slow
def test_killed_applies_converge_without_duplicates(tmp_path: Path) -> None:
    rng = random.Random(20261127)
    db = tmp_path / "s.db"
    customers = write_customers(tmp_path / "c.yaml", CUSTOMERS)
    killed_running = 0
    with serve_sandbox(db, "--latency-ms", "20") as url:
        for _ in range(KILLS):
            process = apply_until_applying(customers, url)
            time.sleep(rng.uniform(0.0, 0.5))
            if process.poll() is None:
                killed_running += 1
            process.kill()
            process.wait(timeout=30)
        final = run_reconcile(url, "apply", str(customers), "--auto-approve")
        check = run_reconcile(url, "plan", str(customers), "--detailed-exitcode")
    assert killed_running >= 10, killed_running  # the kills landed while applying
    assert final.returncode == 0, final.stdout + final.stderr
    assert check.returncode == 0, check.stdout + check.stderr  # converged: nothing left to do
    held = companies_by_uid(db)
    assert sorted(held) == [f"cus-{i:04}" for i in range(1, CUSTOMERS + 1)]
    duplicated = {uid: [c["id"] for c in found] for uid, found in held.items() if len(found) > 1}
    assert not duplicated
    for (company,) in held.values():
        statuses = [c["status"] for c in company["dataConnections"]]
        # Exactly the one connection the file asks for; none unlinked or lost on the way.
        assert statuses == ["PendingAuth"], (company["id"], statuses)
