"""Benchmark: `reconcile audit --health` over 10,000 customers (issue 26).

Seeds a fresh sandbox with `sandbox seed`'s population, stops the data syncs of 1% of the
benchmark owner's Linked companies 40 days ago (so some are at risk), serves it on loopback as
a real subprocess, exports the owner's file, then in this process, per run: the audit's read
(`read_for_audit`), the health reads and assessment (`read_audit_health`: the sync settings,
one data status per Linked company, and a config's bank account, supplier and customer where
a config is set) and `build_audit` with the health findings. Requests are counted by the
client; wall and CPU are this process's.

Run from the project root: `python benchmarks/bench_health.py [--companies N] [--runs N]`.
Prints the numbers and appends a dated section to benchmarks/RESULTS.md.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import seeded
from reconcile.audit import build_audit
from reconcile.codat import ClientSettings
from reconcile.desired import load
from reconcile.facts.audit_health import read_audit_health
from reconcile.facts.snapshot import SnapshotClient, read_for_audit
from reconcile.sandbox.registry import OWNER_TAG
from reconcile.sandbox.store import Store

STOPPED_SHARE = 0.01
TABLE_HEAD = (
    "| what | requests | of which the audit's own | wall best | wall median | CPU median"
    " | at risk | degraded |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n"
)


def stop_some(db: Path) -> int:
    """Stop the data syncs of 1% of the owner's companies with a Linked accounting connection."""
    store = Store(db)
    try:
        linked = [
            c["id"]
            for c in store.find_companies_by_tag(OWNER_TAG, seeded.OWNER)
            if any(
                d["sourceType"] == "Accounting" and d["status"] == "Linked"
                for d in c["dataConnections"]
            )
        ]
        chosen = linked[:: max(1, round(1 / STOPPED_SHARE))]
        for company_id in chosen:
            store.set_data_status(company_id, stopped=True, age_seconds=40 * 86_400)
        return len(chosen)
    finally:
        store.close()


async def export(url: str, path: Path) -> None:
    async with seeded.read_only(url) as client:
        await seeded.export_owner(client, path)


async def one_run(url: str, file: Path) -> dict[str, float]:
    desired = load([file])
    cpu, wall = time.process_time(), time.perf_counter()
    async with SnapshotClient(seeded.KEY, ClientSettings(base_url=url)) as client:
        read = await read_for_audit(client, desired)
        audit_requests = client.requests_sent
        read, healths = await read_audit_health(client, desired, read)
        report = build_audit(desired, read, health=healths, requests=client.requests_sent)
        requests = client.requests_sent
    assert report.health is not None
    return {
        "wall": time.perf_counter() - wall,
        "cpu": time.process_time() - cpu,
        "requests": float(requests),
        "audit requests": float(audit_requests),
        "customers": float(len(healths)),
        "at_risk": float(report.health["at_risk"]),
        "degraded": float(report.health["degraded"]),
    }


def main() -> None:
    args = seeded.options(__doc__ or "").parse_args()
    with seeded.sandbox(args.companies, prepare=lambda db: {"stopped": stop_some(db)}) as served:
        file = served.folder / "customers.yaml"
        asyncio.run(export(served.url, file))
        runs = [asyncio.run(one_run(served.url, file)) for _ in range(args.runs)]
    stopped = served.counts["stopped"]
    med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    best = min(r["wall"] for r in runs)
    customers = int(med["customers"])
    print(
        f"companies={args.companies} customers={customers} stopped={stopped} runs={args.runs}\n"
        f"  audit --health: requests {int(med['requests'])} (audit alone"
        f" {int(med['audit requests'])}), wall best {best:.2f} s median {med['wall']:.2f} s,"
        f" cpu median {med['cpu']:.2f} s; at_risk {int(med['at_risk'])},"
        f" degraded {int(med['degraded'])}"
    )
    if args.no_record:
        return
    cells = (
        "audit --health",
        str(int(med["requests"])),
        str(int(med["audit requests"])),
        f"{best:.2f} s",
        f"{med['wall']:.2f} s",
        f"{med['cpu']:.2f} s",
        str(int(med["at_risk"])),
        str(int(med["degraded"])),
    )
    row = "| " + " | ".join(cells) + " |"
    section = seeded.heading(f"Audit --health over {customers:,} customers", "bench_health.py")
    section += f""": `sandbox seed --companies {args.companies}`, the owner's
{customers:,} customers exported to the file the audit reads; the data syncs of {stopped} Linked
companies stopped 40 days ago. Served on loopback (uvicorn subprocess); {args.runs} runs; the
health reads go 10 at a time. Requests counted by the client; CPU is this process only.

{TABLE_HEAD}{row}

Health costs one `dataStatus` read per Linked customer and three reads (mapping options, the
supplier, the customer) per customer with an expense config, plus one `GET /profile/syncSettings`:
that is why `plan` never reads it and the watch reads it on its own slower schedule.
"""
    seeded.record(section)


if __name__ == "__main__":
    main()
