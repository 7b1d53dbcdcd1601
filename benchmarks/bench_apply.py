"""Benchmark: apply 1,000 new customers (company plus accounting connection each) against a
served sandbox with 20 ms of latency per request, parallelism 10 (issue 11: at most 1.25x the
ideal, requests x 20 ms / 10).

Each run uses a fresh sandbox file: plan in this process (not timed), then `apply_plan` (the
executor with progress, as `reconcile apply` runs it; progress lines go to /dev/null) is timed
and the requests it sent are counted.

Run from the project root: `python benchmarks/bench_apply.py [--customers N] [--runs N]`.
Prints the numbers and appends a dated section to benchmarks/RESULTS.md (`--no-record` not to).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reconcile.cli.apply_cmd import applier  # noqa: E402
from reconcile.codat import ClientSettings, CodatClient  # noqa: E402
from reconcile.facts.fleet import read_live  # noqa: E402
from reconcile.model import Customer, DesiredState  # noqa: E402
from reconcile.planner import make_plan  # noqa: E402
from reconcile.render.style import Style  # noqa: E402
from tests.support.sandbox_server import serve_sandbox  # noqa: E402

OWNER = "bench-apply"
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
LATENCY_MS = 20
PARALLELISM = 10
TARGET = 1.25


def desired(customers: int) -> DesiredState:
    return DesiredState(
        OWNER,
        tuple(
            Customer(uid=f"cus-{i:05}", name=f"Customer {i:05}", accounting="qhyg")
            for i in range(customers)
        ),
    )


def ideal_of(requests: int) -> float:
    """Seconds if every request took exactly the latency, `PARALLELISM` at a time."""
    return requests * LATENCY_MS / 1000 / PARALLELISM


async def one_run(url: str, state: DesiredState) -> tuple[float, int, int]:
    """Wall seconds of the apply, requests it sent, exit code."""
    settings = ClientSettings(base_url=url)
    async with CodatClient("bench-key", settings) as client:
        plan = make_plan(state, await read_live(client, state))
        before = client.requests_sent
        with open(os.devnull, "w") as sink:
            started = time.perf_counter()
            code = await applier(
                parallelism=PARALLELISM,
                fail_fast=False,
                fmt="text",
                style=Style(),
                out=sink,
                err=sink,
            )(plan, client)
            took = time.perf_counter() - started
        return took, client.requests_sent - before, code


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    state = desired(args.customers)
    rows: list[tuple[float, int, float]] = []
    for run in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            db = Path(tmp) / "s.db"
            serve_args = ("--latency-ms", str(LATENCY_MS), "--daily-quota", "100000000")
            with serve_sandbox(db, *serve_args) as url:
                took, requests, code = asyncio.run(one_run(url, state))
        if code != 0:
            raise SystemExit(f"run {run + 1}: apply exited {code}")
        ideal = ideal_of(requests)
        rows.append((took, requests, took / ideal))
        print(
            f"run {run + 1}: {took:.2f} s, {requests} requests, ideal {ideal:.2f} s, "
            f"{took / ideal:.2f}x"
        )
    best = min(rows)
    median = statistics.median(r[2] for r in rows)
    verdict = "met" if median <= TARGET else "NOT met"
    print(f"best {best[0]:.2f} s ({best[2]:.2f}x), median ratio {median:.2f}x: target {verdict}")
    if args.no_record:
        return
    now = datetime.now(UTC)
    section = (
        f"""
## Apply {args.customers:,} new customers ({now:%Y-%m-%d %H:%M} UTC)

`python benchmarks/bench_apply.py` on {platform.machine()}, {os.cpu_count()} CPUs, Python
{platform.python_version()}: {args.customers:,} new customers (company plus accounting connection
each) against a served sandbox (uvicorn subprocess on loopback) with `--latency-ms {LATENCY_MS}`,
`apply_plan` at parallelism {PARALLELISM}, a fresh sandbox file per run. Ideal = requests x
{LATENCY_MS} ms / {PARALLELISM}; target at most {TARGET}x.

| run | wall | requests | ideal | ratio |
| --- | --- | --- | --- | --- |
"""
        + "".join(
            f"| {i + 1} | {t:.2f} s | {n} | {ideal_of(n):.2f} s | {r:.2f}x |\n"
            for i, (t, n, r) in enumerate(rows)
        )
        + f"\nMedian ratio {median:.2f}x: target {verdict}.\n"
    )
    with RESULTS.open("a", encoding="utf-8") as fh:
        fh.write(section)
    print(f"recorded in {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
