"""Benchmark: the watch's status page and `audit --format html` for 10,000 customers.

In this process: a `WatchStatus` that has recorded one full pass over N customers (a fifth
awaiting authorization, each waiting for the customer, the rest along the funnel) and a few
timeline events each, then, best and median of R runs:

1. `WatchStatus.view()`: the page's data;
2. the overview page (`GET /`), rendered by the same Jinja2 templates the watch serves;
3. one customer's page (`GET /customers/UID`);
4. the static report with every customer's section inline (what `audit --format html` writes).

Run from the project root: `python benchmarks/bench_status_page.py [--customers N] [--runs N]
[--no-record]`. Prints the numbers and appends a dated section to benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
sys.path.insert(0, str(ROOT))

from reconcile.model.onboarding import FUNNEL, Onboarding  # noqa: E402
from reconcile.render.html import (  # noqa: E402
    CUSTOMER,
    REPORT,
    customer_context,
    environment,
    page_href,
    render_report,
    report_context,
)
from reconcile.watch.passes import Done, PassReport, Waiting  # noqa: E402
from reconcile.watch.status import WatchStatus  # noqa: E402


def fleet(customers: int) -> WatchStatus:
    now = datetime.now(UTC)
    rows, waiting, done = [], [], []
    for i in range(customers):
        uid = f"cus-{i:05d}"
        stage = "awaiting" if i % 5 == 0 else FUNNEL[2 + i % 3]
        since = (now - timedelta(hours=i % 200)).isoformat() if stage == "awaiting" else None
        rows.append(Onboarding(uid, f"Customer {i} Holdings Ltd", stage, "Xero", since))
        if stage == "awaiting":
            waiting.append(
                Waiting(
                    "customer",
                    uid,
                    f"Customer {i}",
                    "Xero (gbol)",
                    "awaiting customer authorization",
                    since,
                    f"id-{i}",
                )
            )
        else:
            done.append(
                Done(uid, "create_partner_expense", "partner expense connection", "applied")
            )
    status = WatchStatus("bench", ("customers.yaml",))
    status.record(
        PassReport(None, waiting=tuple(waiting), done=tuple(done), onboarding=tuple(rows))
    )
    for i in range(0, customers, 2):  # a few events more on half of them
        for n in range(3):
            status.timeline.add(f"cus-{i:05d}", f"Codat sent connection.connected ({n})")
    return status


def timed(what: Callable[[], object], runs: int) -> tuple[float, float, object]:
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = what()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    status = fleet(args.customers)
    env = environment()
    view = status.view()
    one = view.customers[len(view.customers) // 2]
    rows: list[tuple[str, float, float, str]] = []
    cases: list[tuple[str, Callable[[], object]]] = [
        ("status.view()", status.view),
        (
            "overview page (GET /)",
            lambda: env.get_template(REPORT).render(
                report_context(status.view(), page_href, inline_customers=False)
            ),
        ),
        (
            "one customer's page (GET /customers/UID)",
            lambda: env.get_template(CUSTOMER).render(
                customer_context(status.view(one.row.uid), one, "../")
            ),
        ),
        ("static report, every customer inline (audit --format html)", lambda: render_report(view)),
    ]
    for name, case in cases:
        best, median, result = timed(case, args.runs)
        size = f"{len(result) / 1e3:,.0f} kB" if isinstance(result, str) else ""
        rows.append((name, best, median, size))
        print(f"{name}: best {best * 1000:.1f} ms, median {median * 1000:.1f} ms {size}")
    if args.no_record:
        return
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    table = "".join(
        f"| {name} | {best * 1000:.1f} ms | {median * 1000:.1f} ms | {size} |\n"
        for name, best, median, size in rows
    )
    section = (
        f"\n## Status page and HTML audit for {args.customers:,} customers ({stamp})\n\n"
        f"`python benchmarks/bench_status_page.py` on {platform.machine()}, Python "
        f"{platform.python_version()}: a watch's status after one full pass (a fifth of the "
        "customers awaiting authorization, a timeline of up to 4 events each), rendered by the "
        f"Jinja2 templates the watch serves, in this process, {args.runs} runs.\n\n"
        "| what | best | median | HTML |\n| --- | --- | --- | --- |\n" + table
    )
    with RESULTS.open("a", encoding="utf-8") as fh:
        fh.write(section)
    print(f"recorded in {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
