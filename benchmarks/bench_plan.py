"""Benchmark: `reconcile plan` at fleet scale against the served sandbox (docs/design.md §10,
issue 11).

For `--customers N` (default 10,000; issue 11's target is 100,000):

1. Seeds a fresh sandbox SQLite file with `sandbox seed`'s realistic population of about
   1.43 x N companies (~70% managed by the benchmark owner, so about N; ~10% another team's;
   ~20% untagged; every connection history; some expense configs) and serves it on loopback as
   a real subprocess (`tests/support/sandbox_server.serve_sandbox`, with a request log).
2. Writes the desired file the owner would keep: every managed company as a customer (what
   `reconcile export` writes, without expense configs, so the plan reads no configs), then 1%
   of them renamed in the file (the drift: the plan has that many updates). Every customer
   exists, so the uid lookup before creates costs nothing.
3. Runs, in turn, `python -m reconcile plan FILE` as a real subprocess (CODAT_BASE_URL and
   CODAT_API_KEY pointing at the served sandbox) and the floor of its work as another
   subprocess: load the file with PyYAML's C loader, fetch the same pages of `GET /companies`
   with a bare httpx client, decode the JSON. Wall time and peak RSS (`wait4`) of each; the
   ratio plan / floor is taken per pair (same moment, same machine load).

Requests per plan: the plan's own stderr line ("Reading Codat: ... (K requests)") and the
sandbox's request log (every request it answered during the plan).

Run from the project root: `python benchmarks/bench_plan.py [--customers N] [--runs N]`.
Prints the numbers and appends a dated section to benchmarks/RESULTS.md.
Targets (issue 11, at 100,000): <= 21 requests, peak RSS < 600 MB, wall <= 1.0x the floor.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reconcile.codat import ClientSettings, CodatClient  # noqa: E402
from reconcile.desired import dump  # noqa: E402
from reconcile.export import select, to_customer  # noqa: E402
from reconcile.facts.fleet import owner_filter  # noqa: E402
from reconcile.model import DesiredState  # noqa: E402
from reconcile.sandbox.seed import seed_population  # noqa: E402
from tests.support.sandbox_server import serve_sandbox  # noqa: E402

OWNER = "bench"
KEY = "bench-key"
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
DRIFT_EVERY = 100  # 1% of the customers are renamed in the file
COMPANIES_PER_CUSTOMER = 1.43  # the seeded population is ~70% managed by the owner
PAGE_SIZE = 5000
READING = re.compile(r"Reading Codat: (\d+) managed compan\w+ \((\d+) requests?\)")
TARGET_CUSTOMERS, TARGET_REQUESTS, TARGET_RSS_MB, TARGET_RATIO = 100_000, 21, 600, 1.0

# The floor of a plan's work, in a fresh interpreter as the plan is: read the file with PyYAML's
# C loader, fetch the pages the plan fetches with a bare httpx client, decode them.
FLOOR = """
import base64, json, sys
from concurrent.futures import ThreadPoolExecutor
import httpx, yaml
path, url, key, owner, pages, size, at_once = sys.argv[1:8]
with open(path, encoding="utf-8") as fh:
    data = yaml.load(fh, Loader=yaml.CSafeLoader)
auth = {"Authorization": "Basic " + base64.b64encode(key.encode()).decode()}
with httpx.Client(base_url=url, headers=auth, timeout=120) as client:
    def read(page):
        params = {"page": page, "pageSize": int(size), "tags": "reconcile.owner=" + owner}
        return len(json.loads(client.get("/companies", params=params).content)["results"])
    with ThreadPoolExecutor(int(at_once)) as pool:
        decoded = sum(pool.map(read, range(1, int(pages) + 1)))
print(len(data["customers"]), decoded)
"""
AT_ONCE = 3  # the plan has up to 3 list requests in flight (reconcile.codat.paging)


@dataclass
class Run:
    wall: float
    cpu: float  # user + system
    rss_mb: float
    returncode: int
    stdout: str
    stderr: str


def measure(argv: list[str], env: dict[str, str], folder: Path) -> Run:
    """Run `argv` to completion; wall time and peak RSS of that child alone (wait4)."""
    out, err = folder / "out.txt", folder / "err.txt"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        started = time.perf_counter()
        child = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=stdout, stderr=stderr)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    return Run(
        wall,
        usage.ru_utime + usage.ru_stime,
        usage.ru_maxrss / 1024,  # KiB on Linux
        child.returncode,
        out.read_text(encoding="utf-8", errors="replace"),
        err.read_text(encoding="utf-8", errors="replace"),
    )


async def write_desired(url: str, path: Path) -> tuple[int, int]:
    """The owner's file from the served population (as `reconcile export` would write it,
    without expense configs), 1% renamed; (customers, renamed)."""
    async with CodatClient(KEY, ClientSettings(base_url=url, timeout=120)) as client:
        companies = await client.list_companies(tags=owner_filter(OWNER))
    selection = select(OWNER, companies, adopt=False)
    customers = []
    renamed = 0
    for i, entry in enumerate(selection.entries):
        customer = to_customer(entry, None)
        if i % DRIFT_EVERY == 0:
            customer = replace(customer, name=f"{customer.name} renamed")
            renamed += 1
        customers.append(customer)
    path.write_text(dump(DesiredState(OWNER, tuple(customers))), encoding="utf-8")
    return len(customers), renamed


def log_lines(path: Path) -> int:
    if not path.exists():
        return 0
    with path.open("rb") as fh:
        return sum(1 for _ in fh)


def logged_since(path: Path, before: int) -> int:
    """Requests the sandbox logged since `before` lines (it logs after answering: wait for the
    count to settle)."""
    count, settled = log_lines(path) - before, 0
    while settled < 3:
        time.sleep(0.1)
        now = log_lines(path) - before
        settled = settled + 1 if now == count else 0
        count = now
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    companies = round(args.customers * COMPANIES_PER_CUSTOMER)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        db, log, yaml_path = folder / "sandbox.db", folder / "requests.jsonl", folder / "c.yaml"
        started = time.perf_counter()
        counts = seed_population(db, companies, OWNER, seed=0)
        seeding = time.perf_counter() - started
        serve_args = ("--api-key", KEY, "--daily-quota", "none", "--request-log", str(log))
        with serve_sandbox(db, *serve_args) as url:
            customers, renamed = asyncio.run(write_desired(url, yaml_path))
            size_mb = yaml_path.stat().st_size / 1e6
            pages = max(1, -(-customers // PAGE_SIZE))
            env = {**os.environ, "CODAT_BASE_URL": url, "CODAT_API_KEY": KEY, "NO_COLOR": "1"}
            env.pop("RECONCILE_SANDBOX_DAILY_QUOTA", None)
            plan_argv = [sys.executable, "-m", "reconcile", "plan", str(yaml_path)]
            floor_argv = [
                sys.executable, "-c", FLOOR, str(yaml_path), url, KEY, OWNER, str(pages),
                str(PAGE_SIZE), "1",
            ]  # fmt: skip
            floor_at_once_argv = [*floor_argv[:-1], str(AT_ONCE)]
            rows = []
            for _ in range(args.runs):
                before = log_lines(log)
                plan = measure(plan_argv, env, folder)
                logged = logged_since(log, before)
                if plan.returncode != 0:
                    sys.exit(f"plan failed ({plan.returncode}):\n{plan.stderr[-3000:]}")
                floor = measure(floor_argv, env, folder)
                at_once = measure(floor_at_once_argv, env, folder)
                for failed in (f for f in (floor, at_once) if f.returncode != 0):
                    sys.exit(f"floor failed ({failed.returncode}):\n{failed.stderr[-3000:]}")
                reading = READING.search(plan.stderr)
                if reading is None:
                    sys.exit(f"no 'Reading Codat' line in the plan's stderr:\n{plan.stderr}")
                rows.append(
                    (plan, floor, int(reading.group(2)), logged, int(reading.group(1)), at_once)
                )
                print(
                    f"  plan {plan.wall:6.2f} s {plan.rss_mb:5.0f} MB  floor {floor.wall:6.2f} s "
                    f"{floor.rss_mb:5.0f} MB  ratio {plan.wall / floor.wall:.2f}x  "
                    f"requests {rows[-1][2]} (log {logged}); floor {AT_ONCE} pages at once "
                    f"{at_once.wall:.2f} s, ratio {plan.wall / at_once.wall:.2f}x",
                    flush=True,
                )
            summary = rows[-1][0].stdout.strip().splitlines()[-1] if rows[-1][0].stdout else ""
    report(args, counts, customers, renamed, size_mb, seeding, rows, summary)


def report(
    args: argparse.Namespace,
    counts: object,
    customers: int,
    renamed: int,
    size_mb: float,
    seeding: float,
    rows: list[tuple[Run, Run, int, int, int, Run]],
    summary: str,
) -> None:
    assert isinstance(counts, dict)
    ratios = [plan.wall / floor.wall for plan, floor, *_ in rows]
    med = statistics.median
    plan_wall, floor_wall = med(r[0].wall for r in rows), med(r[1].wall for r in rows)
    rss, floor_rss = max(r[0].rss_mb for r in rows), max(r[1].rss_mb for r in rows)
    requests, logged = max(r[2] for r in rows), max(r[3] for r in rows)
    ratio = med(ratios)
    ratio_at_once = med(r[0].wall / r[5].wall for r in rows)
    print(
        f"companies={counts['companies']} managed={rows[0][4]} customers={customers} "
        f"renamed={renamed} file={size_mb:.1f}MB seeding={seeding:.0f}s\n"
        f"plan median {plan_wall:.2f} s, floor median {floor_wall:.2f} s, ratio median "
        f"{ratio:.2f}x ({ratio_at_once:.2f}x to the floor at {AT_ONCE} pages at once); "
        f"peak RSS {rss:.0f} MB (floor {floor_rss:.0f} MB); requests {requests} "
        f"(sandbox log {logged})\n{summary}"
    )
    if args.no_record:
        return
    met = {
        "requests": requests <= TARGET_REQUESTS and logged <= TARGET_REQUESTS,
        "RSS": rss < TARGET_RSS_MB,
        "wall": ratio <= TARGET_RATIO,
    }
    verdict = ", ".join(f"{k} {'met' if ok else 'NOT met'}" for k, ok in met.items())
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    section = (
        f"""
## Plan for {args.customers:,} customers, whole command (bench_plan, {stamp})

`python benchmarks/bench_plan.py --customers {args.customers}` on {platform.machine()},
{os.cpu_count()} CPUs, Python {platform.python_version()}: `sandbox seed` population of
{counts["companies"]:,} companies ({rows[0][4]:,} managed by the owner), served on loopback
(uvicorn subprocess, request log on); the owner's file of {customers:,} customers
({size_mb:.1f} MB, block style as `export` writes it, no expense configs), {renamed:,} of them
renamed (the drift). `python -m reconcile plan FILE` as a subprocess against it, and in turn the
floor (a fresh interpreter: PyYAML C loader on the file, the same {-(-customers // PAGE_SIZE)}
pages with a bare httpx client one at a time, `json.loads`), and the same floor fetching
{AT_ONCE} pages at once (threads), as the plan does. Ratios = plan wall / floor wall of the same
run.
CPU (user + system) and peak RSS of each child from `wait4`; requests: the plan's own count /
the sandbox's request log.
The plan's last line: `{summary}`

| run | plan | CPU | floor | ratio | floor, {AT_ONCE} at once | ratio | RSS | floor RSS | requests |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
"""
        + "".join(
            f"| {i} | {p.wall:.2f} s | {p.cpu:.2f} s | {f.wall:.2f} s | {p.wall / f.wall:.2f}x | "
            f"{a.wall:.2f} s | {p.wall / a.wall:.2f}x | "
            f"{p.rss_mb:.0f} MB | {f.rss_mb:.0f} MB | {req} / {log} |\n"
            for i, (p, f, req, log, _, a) in enumerate(rows, 1)
        )
        + f"\nMedian ratio {ratio:.2f}x (to the floor at {AT_ONCE} pages at once "
        f"{ratio_at_once:.2f}x), peak RSS {rss:.0f} MB, {requests} requests. "
        + (
            f"Targets of issue 11 (<= {TARGET_REQUESTS} requests, < {TARGET_RSS_MB} MB, <= "
            f"{TARGET_RATIO:.1f}x the floor): {verdict}.\n"
            if args.customers >= TARGET_CUSTOMERS
            else f"(Issue 11's targets are for {TARGET_CUSTOMERS:,} customers.)\n"
        )
    )
    with RESULTS.open("a", encoding="utf-8") as fh:
        fh.write(section)
    print(f"recorded in {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
