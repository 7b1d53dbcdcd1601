"""Benchmark: `reconcile audit` and `reconcile export` over 10,000 companies (issue 9).

Seeds a fresh sandbox SQLite file with `sandbox seed`'s realistic population (~70% managed by
the benchmark owner, ~10% another owner's, ~20% untagged; every connection history; half the
Linked-with-partner-expense companies with an expense config), serves it on loopback as a real
subprocess, then in this process, for each run:

- export: list + expense-config reads + the file (`read_for_export`, `export_text`);
- export --adopt: the same over the whole account;
- plan: `read_live` + `make_plan` on the exported file (the cost the audit must match);
- audit: `read_for_audit` (SnapshotClient) + `build_audit` + the three renderings.

Requests are counted by the client (list requests separately); wall and CPU are this process's.

Run from the project root: `python benchmarks/bench_audit_export.py [--companies N] [--runs N]`.
Prints the numbers and appends a dated section to benchmarks/RESULTS.md.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import seeded
from reconcile.audit import build_audit
from reconcile.codat import ClientSettings, CodatClient
from reconcile.codat.wire import Answer, Outgoing
from reconcile.desired import load
from reconcile.facts.fleet import read_live
from reconcile.facts.snapshot import SnapshotClient, read_for_audit
from reconcile.planner import make_plan
from reconcile.render.audit_json import render_audit_json
from reconcile.render.audit_markdown import render_audit_markdown
from reconcile.render.audit_text import render_audit_text
from reconcile.sandbox.seed import MESSY_PER
from reconcile.sandbox.seed.messy import seed_messy

Stage = dict[str, float]


class Counting:
    """Counts a client's list requests (GET /companies) apart from the others."""

    def __init__(self, client: CodatClient) -> None:
        self.client = client
        self.lists = 0
        original = client.wire.send

        async def counted(out: Outgoing) -> Answer:
            if urlsplit(out.url).path.rstrip("/").endswith("/companies"):
                self.lists += 1
            return await original(out)

        client.wire.send = counted  # type: ignore[method-assign]


async def timed(make: Callable[[], Awaitable[tuple[int, int, str]]]) -> Stage:
    cpu, wall = time.process_time(), time.perf_counter()
    requests, lists, _ = await make()
    return {
        "wall": time.perf_counter() - wall,
        "cpu": time.process_time() - cpu,
        "requests": float(requests),
        "lists": float(lists),
    }


DESTROYS = ("unlink_connection", "delete_connection", "delete_company")


async def one_run(url: str, folder: Path) -> dict[str, Stage]:
    settings = ClientSettings(base_url=url)
    out: dict[str, Stage] = {}
    exported = folder / "customers.yaml"
    adopted = folder / "adopted.yaml"

    def exporter(adopt: bool) -> Callable[[], Awaitable[tuple[int, int, str]]]:
        async def go() -> tuple[int, int, str]:
            async with seeded.read_only(url) as client:
                counter = Counting(client)
                text = await seeded.export_owner(
                    client, adopted if adopt else exported, adopt=adopt
                )
                return client.requests_sent, counter.lists, text

        return go

    out["export"] = await timed(exporter(False))
    out["export --adopt"] = await timed(exporter(True))
    desired = load([exported])

    async def plan() -> tuple[int, int, str]:
        async with CodatClient(seeded.KEY, settings) as client:
            counter = Counting(client)
            the_plan = make_plan(desired, await read_live(client, desired))
            assert not the_plan.has_changes, "the export must plan to no changes"
            return client.requests_sent, counter.lists, ""

    async def audit() -> tuple[int, int, str]:
        async with SnapshotClient(seeded.KEY, settings) as client:
            counter = Counting(client)
            report = build_audit(desired, await read_for_audit(client, desired))
            rendered = render_audit_text(report) + render_audit_json(report)
            rendered += render_audit_markdown(report)
            return client.requests_sent, counter.lists, rendered

    async def plan_adopted() -> tuple[int, int, str]:
        """The `export --adopt` file's plan: it adopts, and destroys nothing (issue 15)."""
        whole = load([adopted])
        async with CodatClient(seeded.KEY, settings) as client:
            counter = Counting(client)
            the_plan = make_plan(whole, await read_live(client, whole))
            destroys = [a for a in the_plan.actions if a.kind.value in DESTROYS]
            assert not destroys, f"an adopted file must destroy nothing: {destroys[:3]}"
            return client.requests_sent, counter.lists, ""

    out["plan (same file)"] = await timed(plan)
    out["audit (3 formats)"] = await timed(audit)
    out["plan (adopted file)"] = await timed(plan_adopted)
    return out


def main() -> None:
    parser = seeded.options(__doc__ or "")
    parser.add_argument(
        "--messy",
        action="store_true",
        help="Also seed `sandbox seed --messy`'s fleets (one group per 50 companies).",
    )
    args = parser.parse_args()

    def messy(db: Path) -> dict[str, int]:
        return seed_messy(db, (seeded.OWNER,), max(1, args.companies // MESSY_PER), seed=1)

    with seeded.sandbox(args.companies, prepare=messy if args.messy else None) as served:
        runs = [asyncio.run(one_run(served.url, served.folder)) for _ in range(args.runs)]
        customers = len(load([served.folder / "customers.yaml"]).customers)
    counts, seeding = served.counts, served.seeding
    stages = list(runs[0])
    med = {s: {k: statistics.median(r[s][k] for r in runs) for k in runs[0][s]} for s in stages}
    best = {s: {k: min(r[s][k] for r in runs) for k in runs[0][s]} for s in stages}
    print(
        f"companies={args.companies} managed={counts['managed']} exported={customers} "
        f"runs={args.runs} seeding={seeding:.1f}s"
    )
    for s in stages:
        print(
            f"  {s:18} requests {int(med[s]['requests']):5} (lists {int(med[s]['lists'])})  "
            f"wall best {best[s]['wall']:6.2f} s median {med[s]['wall']:6.2f} s  "
            f"cpu median {med[s]['cpu']:5.2f} s"
        )
    if args.no_record:
        return
    messy_note = " (--messy)" if args.messy else ""
    title = f"Audit and export over {args.companies:,} companies{messy_note}"
    section = (
        seeded.heading(title, "bench_audit_export.py")
        + f""": `sandbox seed --companies {args.companies}` ({counts["managed"]:,}
companies with an owner tag, the benchmark owner's and other teams'; the rest untagged;
{counts["expense config"]:,} expense configs), served on loopback (uvicorn subprocess).
{args.runs} runs; the export is of the {customers:,} companies of the owner; plan and audit read
that file. Requests counted by the client; CPU is this process only.

| what | requests | of which lists | wall best | wall median | CPU median |
| --- | ---: | ---: | ---: | ---: | ---: |
"""
        + "".join(
            f"| {s} | {int(med[s]['requests'])} | {int(med[s]['lists'])} | "
            f"{best[s]['wall']:.2f} s | {med[s]['wall']:.2f} s | {med[s]['cpu']:.2f} s |\n"
            for s in stages
        )
        + "\nThe adopted file (`export --adopt`) plans no unlink or delete (asserted)."
        + "\nThe audit's requests are the plan's, but for its lists: one list of the whole "
        "account (a page per 5,000 companies) replaces the plan's owner-filtered list, and the "
        "expense-config reads are the plan's own. The export's non-list requests are one "
        "config read per exported company whose accounting is Linked (10 at a time).\n"
    )
    seeded.record(section)


if __name__ == "__main__":
    main()
