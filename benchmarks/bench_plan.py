"""Benchmark: what a plan for 10,000 customers costs (DESIGN §10: 2-3 requests, ~1 s of CPU).

Seeds a fresh sandbox SQLite file with 10,000 managed companies that match a generated
10,000-customer YAML file (half Linked with the partner expense connection, half PendingAuth),
plus 1% drift (renamed companies), serves it on loopback as a real subprocess, then runs the
plan pipeline in this process and times each stage: load + validate the YAML, read live state
(requests counted), plan, render. CPU time is this process's (the server is another process).

Run from the project root: `python benchmarks/bench_plan.py [--customers N] [--runs N]`.
Prints the numbers and appends a dated section to benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reconcile.codat import ClientSettings, CodatClient  # noqa: E402
from reconcile.desired import load  # noqa: E402
from reconcile.live import read_live  # noqa: E402
from reconcile.planner import make_plan  # noqa: E402
from reconcile.render.text import render_plan  # noqa: E402
from reconcile.sandbox.store import Store  # noqa: E402
from tests.sandbox_server import serve_sandbox  # noqa: E402

OWNER = "bench"
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
PLATFORMS = (("xero", "gbol"), ("qbo", "qhyg"), ("netsuite", "akxx"), ("sage-intacct", "knfz"))
DRIFT_EVERY = 100


def write_yaml(path: Path, customers: int) -> None:
    lines = ["version: 1", f"owner: {OWNER}", "defaults:", "  expenses: true", "customers:"]
    for i in range(customers):
        alias = PLATFORMS[i % len(PLATFORMS)][0]
        lines += [
            f"  - uid: cus-{i:05}",
            f"    name: Customer {i:05}",
            f"    description: Benchmark customer {i}",
            f"    tags: {{region: r{i % 7}, plan: p{i % 3}}}",
            f"    accounting: {alias}",
        ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def seed(db: Path, customers: int) -> None:
    store = Store(db)
    rows = (
        (
            f"Customer {i:05}" + (" (old)" if i % DRIFT_EVERY == 0 else ""),
            f"Benchmark customer {i}",
            {
                "region": f"r{i % 7}",
                "plan": f"p{i % 3}",
                "reconcile.owner": OWNER,
                "reconcile.uid": f"cus-{i:05}",
            },
        )
        for i in range(customers)
    )
    ids = store.create_companies(rows)
    with store.transaction():
        for i, company_id in enumerate(ids):
            key = PLATFORMS[i % len(PLATFORMS)][1]
            connection = store.create_connection(company_id, key, "http://127.0.0.1")
            if i % 2:
                store.set_connection_status(company_id, connection["id"], "Linked")
                store.create_partner_expense_connection(company_id, "http://127.0.0.1")
    store.close()


async def one_run(url: str, yaml_path: Path) -> dict[str, float]:
    cpu0, t0 = time.process_time(), time.perf_counter()
    desired = load([yaml_path])
    t1 = time.perf_counter()
    async with CodatClient("bench", ClientSettings(base_url=url)) as client:
        live = await read_live(client, desired)
    t2 = time.perf_counter()
    plan = make_plan(desired, live)
    t3 = time.perf_counter()
    text = render_plan(plan)
    t4 = time.perf_counter()
    return {
        "load": t1 - t0,
        "read": t2 - t1,
        "plan": t3 - t2,
        "render": t4 - t3,
        "total": t4 - t0,
        "cpu": time.process_time() - cpu0,
        "requests": float(live.requests),
        "updates": float(plan.summary()["update"]),
        "text_kb": len(text) / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        yaml_path, db = Path(tmp) / "customers.yaml", Path(tmp) / "sandbox.db"
        write_yaml(yaml_path, args.customers)
        size_mb = yaml_path.stat().st_size / 1e6
        seed(db, args.customers)
        with serve_sandbox(db) as url:
            runs = [asyncio.run(one_run(url, yaml_path)) for _ in range(args.runs)]
    med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    best = {k: min(r[k] for r in runs) for k in runs[0]}
    print(
        f"customers={args.customers} runs={args.runs} requests={int(med['requests'])} "
        f"updates={int(med['updates'])}"
    )
    for stage in ("load", "read", "plan", "render", "total", "cpu"):
        print(f"  {stage:7} best {best[stage] * 1000:7.0f} ms   median {med[stage] * 1000:7.0f} ms")
    if args.no_record:
        return
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    section = (
        f"""
## Plan for {args.customers:,} customers ({stamp})

`python benchmarks/bench_plan.py` on {platform.machine()}, Python {platform.python_version()}:
a generated {args.customers:,}-customer YAML file (~{size_mb:.1f} MB) against a served sandbox
(uvicorn subprocess on loopback) holding the matching {args.customers:,} companies, 1% of them
renamed (so the plan has {int(med["updates"])} updates). Stages in this process, {args.runs} runs;
CPU is this process only (the server is another process).

| stage | best | median |
| --- | --- | --- |
"""
        + "".join(
            f"| {stage} | {best[stage] * 1000:.0f} ms | {med[stage] * 1000:.0f} ms |\n"
            for stage in ("load", "read", "plan", "render", "total", "cpu")
        )
        + f"\nRequests per plan: {int(med['requests'])}.\n"
    )
    with RESULTS.open("a", encoding="utf-8") as fh:
        fh.write(section)
    print(f"recorded in {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
