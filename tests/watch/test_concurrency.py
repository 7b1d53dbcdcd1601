"""Two watches, a converge and a reviewed apply at once, on one served sandbox: every follow-up
is made once, every customer has one company, and a plan afterwards has nothing to do."""

from __future__ import annotations

import subprocess
from collections import Counter
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from tests.conftest import AUTH_HEADERS
from tests.support.cli import reconcile, reconcile_argv
from tests.watch.helpers import OWNER, WATCHED, running_watch, served_codat, write_file

pytestmark = pytest.mark.slow

THIRD = """\
  - uid: w-3
    name: Watched Three
    accounting: xero
    expenses: true
"""


def test_two_watches_a_converge_and_an_apply_duplicate_nothing(tmp_path: Path) -> None:
    with served_codat(tmp_path, "--latency-ms", "50") as codat:
        desired = write_file(tmp_path / "customers.yaml")
        assert reconcile("apply", str(desired), "--auto-approve", env=codat.env()).returncode == 0
        for uid in ("w-1", "w-2"):
            assert (
                reconcile("sandbox", "authorize", "--db", str(codat.db), "--uid", uid).returncode
                == 0
            )
        desired.write_text(WATCHED + THIRD, "utf-8")  # merged: the apply will create w-3
        env = {**codat.env(), "NO_COLOR": "1"}
        with ExitStack() as stack:
            watches = [
                stack.enter_context(running_watch(codat, str(desired), "--resync", "1h"))
                for _ in range(2)
            ]
            others = [
                subprocess.Popen(
                    reconcile_argv(*args, str(desired)),
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
                for args in (["converge"], ["apply", "--auto-approve"])
            ]
            results = [p.communicate(timeout=120) for p in others]
            converged, applied = (p.returncode for p in others)
            # converge exits 2 when it ran before the apply made w-3 (w-3 waited for review)
            assert converged in (0, 2) and applied == 0, results
            for watch in watches:
                watch.wait_for("a full pass", watch.passes_after(0))
                watch.wait_for("a full pass", lambda s: s["queued_companies"] == 0)
            for watch in watches:
                assert watch.stop() == 143

        with httpx.Client(base_url=codat.url, headers=AUTH_HEADERS) as client:
            companies = client.get(
                "/companies", params={"tags": f"reconcile.owner={OWNER}"}
            ).json()["results"]
        uids = Counter(c["tags"]["reconcile.uid"] for c in companies)
        assert uids == {"w-1": 1, "w-2": 1, "w-3": 1}
        for company in companies:
            kinds = Counter(c["sourceType"] for c in company["dataConnections"])
            expected = 0 if company["tags"]["reconcile.uid"] == "w-3" else 1
            assert kinds["Expense"] == expected and kinds["Accounting"] == 1, company
        plan = reconcile("plan", str(desired), "--detailed-exitcode", env=codat.env())
        assert plan.returncode == 0, plan.stdout + plan.stderr
