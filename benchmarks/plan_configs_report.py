"""What `bench_plan_configs.py` records of its part (b) and how (its rounds, the bar)."""

from __future__ import annotations

import argparse
import os
import platform
import statistics
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime

from benchmarks.bench_plan import Run
from reconcile.facts.configs import READS_IN_FLIGHT

TARGET_RATIO = 1.1


@dataclass(frozen=True)
class Row:
    latency: int
    plan: Run
    plan_read: float  # the plan's read phase (see `timed_plan`)
    requests: int  # as the sandbox logged them
    bare: Run  # the bare client's reads alone
    bare_read: float  # its read phase, timed inside it
    floor: Run  # the bare client, the file parsed first


def load_text() -> str:
    return " / ".join(f"{x:.1f}" for x in os.getloadavg())


def record_lines(
    args: argparse.Namespace,
    counts: Counter[str],
    customers: int,
    configured: int,
    size_mb: float,
    limit: int,
    pr: tuple[Run, list[str], Counter[str]],
    pr2: tuple[Run, list[str], Counter[str]],
    full: tuple[Run, list[str], Counter[str]],
    note: str,
    rows: list[Row],
) -> list[str]:
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    met_a = len(pr[1]) <= limit
    medians = {
        n: statistics.median(r.plan_read / r.bare_read for r in rows if r.latency == n)
        for n in dict.fromkeys(r.latency for r in rows)
    }
    met_b = all(ratio <= TARGET_RATIO for ratio in medians.values())

    def kinds_text(found: Counter[str]) -> str:
        return ", ".join(f"{n} {k}" for k, n in sorted(found.items()))

    lines = [
        "",
        f"## What expense configs cost a plan, {customers:,} customers (bench_plan_configs, "
        f"{stamp})",
        "",
        f"`python benchmarks/bench_plan_configs.py --customers {args.customers}` on "
        f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}: "
        f"`sandbox seed --expense-configs 1.0` population of {counts['companies']:,} companies, "
        f"every Linked one with an expense config; the owner's file of {customers:,} customers "
        f"({size_mb:.1f} MB, as `export` writes it), {configured:,} of them with their live "
        "config (every Linked customer). Served on loopback (uvicorn subprocess, request log on, "
        "no daily quota). Requests: counted in the sandbox's request log. One run per figure. "
        f"Load average at the end: {load_text()} (the machine is shared: under load, wall time "
        "follows CPU, the plan's and the sandbox's on the same cores: see the plan's CPU).",
        "",
        "(a) A pull request's plan (`reconcile plan PR --base MAIN`), target at most "
        f"3 + {args.changed} = {limit} requests:",
        "",
        "| plan | requests | what they read | wall |",
        "| --- | ---: | --- | ---: |",
        f"| PR renaming {args.changed} configured customers | {len(pr[1])} | "
        f"{kinds_text(pr[2])} | {pr[0].wall:.2f} s |",
        f"| PR changing the bank account of {args.changed} | {len(pr2[1])} | "
        f"{kinds_text(pr2[2])} | {pr2[0].wall:.2f} s |",
        f"| plain plan of the same file (the control) | {len(full[1])} | {kinds_text(full[2])} "
        f"| {full[0].wall:.2f} s |",
        "",
        f"The PR plan's line: ``{note}``",
        "",
        f"(b) The full plan (`reconcile plan MAIN`, every config read, {READS_IN_FLIGHT} in "
        "flight) beside a bare asyncio client (aiohttp in a fresh interpreter, no reconciler "
        "code) making the same reads (the listing pages, then the same configs) with the same "
        "number in flight, in turn against the same server, at the sandbox's injected latency. "
        "Reads: the plan's read phase (from its `Reading FILE` line on stderr to its `Reading "
        "Codat` line) beside the bare client's (timed inside it); whole: the plan command's "
        "wall beside the bare client's that first parses the same file with PyYAML's C loader "
        f"(the floor). {args.rounds} rounds per latency, plan and bare client in turn (the "
        "machine is shared: one run is noise); target: the median round's reads <= "
        f"{TARGET_RATIO}x.",
        "",
        "| latency | plan | plan CPU | plan reads | requests | bare reads | ratio, reads "
        "| bare + file | ratio, whole |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    lines += [
        f"| {r.latency} ms | {r.plan.wall:.2f} s | {r.plan.cpu:.2f} s | {r.plan_read:.2f} s | "
        f"{r.requests} | {r.bare_read:.2f} s | {r.plan_read / r.bare_read:.2f}x | "
        f"{r.floor.wall:.2f} s | {r.plan.wall / r.floor.wall:.2f}x |"
        for r in rows
    ]
    lines += [
        "",
        "Median ratio, reads: "
        + ", ".join(f"{n} ms {ratio:.2f}x" for n, ratio in medians.items())
        + ".",
        "",
        f"Targets of issue 27: (a) {'met' if met_a else 'NOT met'}, "
        f"(b) {'met' if met_b else 'NOT met'}.",
    ]
    return lines
