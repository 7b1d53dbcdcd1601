"""Benchmark: `reconcile plan` at fleet scale against the served sandbox, in every file style,
beside two floors of its work (docs/design.md §10, issues 11, 18 and 27).

For `--customers N` (default 10,000; issue 11's target is 100,000):

1. Seeds a fresh sandbox SQLite file with `sandbox seed`'s realistic population of about
   1.43 x N companies (~70% managed by the benchmark owner, so about N; ~10% another team's;
   ~20% untagged; every connection history; some expense configs) and serves it on loopback as
   a real subprocess (`tests/support/sandbox_server.serve_sandbox`, with a request log).
2. Writes the desired file the owner would keep: every managed company as a customer (what
   `reconcile export` writes, without expense configs, so the plan reads no configs), then 1%
   of them renamed in the file (the drift: the plan has that many updates). Every customer
   exists, so the uid lookup before creates costs nothing. The same state is then written in
   each style `benchmarks/bench_validate.py` generates (its `styles()`): block YAML (as `export`
   writes it), flow YAML, indented JSON and compact JSON (`--styles` picks some).
3. For each style in turn, runs `python -m reconcile plan FILE` as a real subprocess
   (CODAT_BASE_URL and CODAT_API_KEY pointing at the served sandbox) and the two floors of its
   work, each as another fresh interpreter:
   - **the floor**: load the file with PyYAML's C loader (libyaml), fetch the same pages of
     `GET /companies` with a bare httpx client one at a time, decode the JSON (issue 11's
     definition; the bar is plan <= 1.0x it);
   - **the fast floor**: read the file with yaml-rs (issue 18: "yaml-rs parse, the same pages
     fetched, JSON decoded"), fetch the same pages with up to 3 in flight, as the plan reads
     them (`reconcile.codat.paging`), decode the JSON (the bar is plan <= 1.5x it).
   Wall time, CPU and peak RSS (`wait4`) of each; the ratios are taken per triple (same moment,
   same machine load).

Requests per plan: the plan's own stderr line ("Reading Codat: ... (K requests)") and the
sandbox's request log (every request it answered during the plan).

Run from the project root: `python benchmarks/bench_plan.py [--customers N] [--runs N]
[--styles block,flow,json,compact]`. Prints the numbers and appends a dated section to
benchmarks/RESULTS.md.
Targets (issue 27): at 10,000, <= 1.0x the floor in every style and <= 1.5x the fast floor; at
100,000, <= 21 requests, peak RSS < 300 MB, <= 1.0x the floor.
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

from benchmarks.bench_validate import styles as all_styles  # noqa: E402
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
TARGET_CUSTOMERS, TARGET_REQUESTS, TARGET_RSS_MB = 100_000, 21, 300
TARGET_RATIO, TARGET_FAST_RATIO = 1.0, 1.5
# bench_validate's style names, by the short name `--styles` takes
STYLES = {
    "block": "block YAML",
    "flow": "flow YAML",
    "json": "JSON, indented",
    "compact": "JSON, compact",
}

# The floors of a plan's work, in a fresh interpreter as the plan is: read the file (PyYAML's C
# loader, or yaml-rs), fetch the pages the plan fetches with a bare httpx client (one at a time,
# or several in flight), decode them.
FLOOR = """
import base64, json, sys
from concurrent.futures import ThreadPoolExecutor
import httpx
path, url, key, owner, pages, size, at_once, reader = sys.argv[1:9]
with open(path, encoding="utf-8") as fh:
    text = fh.read()
if reader == "libyaml":
    import yaml
    data = yaml.load(text, Loader=yaml.CSafeLoader)
else:
    import yaml_rs
    data = yaml_rs.loads(text, parse_datetime=False)
auth = {"Authorization": "Basic " + base64.b64encode(key.encode()).decode()}
with httpx.Client(base_url=url, headers=auth, timeout=120) as client:
    def read(page):
        params = {"page": page, "pageSize": int(size), "tags": "reconcile.owner=" + owner}
        for attempt in range(3):  # a connection the loaded server reset is not the floor's work
            try:
                answer = client.get("/companies", params=params)
                break
            except httpx.TransportError:
                if attempt == 2:
                    raise
        return len(json.loads(answer.content)["results"])
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


@dataclass
class Row:
    """One style's plan and its two floors, measured one after the other."""

    style: str
    plan: Run
    floor: Run
    fast: Run
    requests: int  # the plan's own count
    logged: int  # the sandbox's request log
    managed: int


# Linux counts a child's peak RSS from the memory of the process that forked it (exec keeps the
# high-water mark of the forked copy), so a child forked by this benchmark, which holds the
# seeded population, would show this process's size. A small launcher forks each child instead
# and reports what `wait4` says of it: wall seconds, CPU seconds, peak KiB, exit status.
LAUNCH = """
import os, subprocess, sys, time
report, argv = sys.argv[1], sys.argv[2:]
started = time.perf_counter()
child = subprocess.Popen(argv)
_, status, usage = os.wait4(child.pid, 0)
wall = time.perf_counter() - started
with open(report, "w") as fh:
    cpu = usage.ru_utime + usage.ru_stime
    print(wall, cpu, usage.ru_maxrss, os.waitstatus_to_exitcode(status), file=fh)
"""


def measure(argv: list[str], env: dict[str, str], folder: Path) -> Run:
    """Run `argv` to completion; wall time, CPU and peak RSS of that child alone (`wait4` in a
    small launcher, see `LAUNCH`)."""
    out, err, said = folder / "out.txt", folder / "err.txt", folder / "wait4.txt"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        launcher = [sys.executable, "-c", LAUNCH, str(said), *argv]
        subprocess.run(launcher, cwd=ROOT, env=env, stdout=stdout, stderr=stderr, check=True)
    wall, cpu, rss_kib, returncode = said.read_text(encoding="utf-8").split()
    return Run(
        float(wall),
        float(cpu),
        int(rss_kib) / 1024,  # KiB on Linux
        int(returncode),
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


def style_files(folder: Path, block: Path, names: list[str]) -> dict[str, Path]:
    """The desired file in each named style (bench_validate's `styles()`: the same state)."""
    text = block.read_text(encoding="utf-8")
    texts = all_styles(text) if names != ["block"] else {STYLES["block"]: text}
    files = {}
    for name in names:
        path = folder / f"customers-{name}.yaml"
        path.write_text(texts[STYLES[name]], encoding="utf-8")
        files[name] = path
    return files


def compile_package() -> None:
    """The package's bytecode compiled first, as pip compiles a wheel's (bench_startup does too):
    with PYTHONDONTWRITEBYTECODE set, or bytecode older than the source, every plan would compile
    every module it imports, which the floors never pay."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", "reconcile"], cwd=ROOT, check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--styles",
        default=None,
        help="comma-separated, of block, flow, json, compact (default: all at 10,000 customers "
        "or fewer, block above)",
    )
    parser.add_argument(
        "--db",
        type=Path,
        help="the seeded sandbox file to serve: seeded there when missing, reused when present "
        "(seeding 143,000 companies takes minutes)",
    )
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    default = "block" if args.customers > 10_000 else ",".join(STYLES)
    names = [n.strip() for n in (args.styles or default).split(",") if n.strip()]
    if unknown := [n for n in names if n not in STYLES]:
        sys.exit(f"--styles: unknown {', '.join(unknown)} (known: {', '.join(STYLES)})")
    companies = round(args.customers * COMPANIES_PER_CUSTOMER)
    compile_package()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        db, log, yaml_path = folder / "sandbox.db", folder / "requests.jsonl", folder / "c.yaml"
        started = time.perf_counter()
        if args.db is not None and args.db.exists():
            db, counts = args.db, {"companies": companies}
        else:
            db = args.db or db
            counts = seed_population(db, companies, OWNER, seed=0)
        seeding = time.perf_counter() - started
        serve_args = ("--api-key", KEY, "--daily-quota", "none", "--request-log", str(log))
        with serve_sandbox(db, *serve_args) as url:
            customers, renamed = asyncio.run(write_desired(url, yaml_path))
            files = style_files(folder, yaml_path, names)
            sizes = {name: path.stat().st_size / 1e6 for name, path in files.items()}
            pages = str(max(1, -(-customers // PAGE_SIZE)))
            env = {**os.environ, "CODAT_BASE_URL": url, "CODAT_API_KEY": KEY, "NO_COLOR": "1"}
            env.pop("RECONCILE_SANDBOX_DAILY_QUOTA", None)
            rows: list[Row] = []
            for _ in range(args.runs):
                for name, path in files.items():
                    rows.append(measure_style(name, path, url, pages, env, folder, log))
            summary = rows[-1].plan.stdout.strip().splitlines()[-1] if rows[-1].plan.stdout else ""
    report(args, counts, customers, renamed, sizes, seeding, rows, summary)


def measure_style(
    name: str, path: Path, url: str, pages: str, env: dict[str, str], folder: Path, log: Path
) -> Row:
    """The plan of `path`, then its floor, then its fast floor."""
    plan_argv = [sys.executable, "-m", "reconcile", "plan", str(path)]
    floor = [sys.executable, "-c", FLOOR, str(path), url, KEY, OWNER, pages, str(PAGE_SIZE)]
    before = log_lines(log)
    plan = measure(plan_argv, env, folder)
    logged = logged_since(log, before)
    if plan.returncode != 0:
        sys.exit(f"plan failed ({plan.returncode}):\n{plan.stderr[-3000:]}")
    slow = measure([*floor, "1", "libyaml"], env, folder)
    fast = measure([*floor, str(AT_ONCE), "yaml-rs"], env, folder)
    for failed in (f for f in (slow, fast) if f.returncode != 0):
        sys.exit(f"floor failed ({failed.returncode}):\n{failed.stderr[-3000:]}")
    reading = READING.search(plan.stderr)
    if reading is None:
        sys.exit(f"no 'Reading Codat' line in the plan's stderr:\n{plan.stderr}")
    row = Row(name, plan, slow, fast, int(reading.group(2)), logged, int(reading.group(1)))
    print(
        f"  {name:<8} plan {plan.wall:6.2f} s {plan.rss_mb:5.0f} MB  floor {slow.wall:6.2f} s "
        f"{slow.rss_mb:5.0f} MB ({plan.wall / slow.wall:.2f}x)  fast floor {fast.wall:6.2f} s "
        f"({plan.wall / fast.wall:.2f}x)  requests {row.requests} (log {logged})",
        flush=True,
    )
    return row


def report(
    args: argparse.Namespace,
    counts: object,
    customers: int,
    renamed: int,
    sizes: dict[str, float],
    seeding: float,
    rows: list[Row],
    summary: str,
) -> None:
    assert isinstance(counts, dict)
    med = statistics.median
    per_style = {
        name: (
            med(r.plan.wall / r.floor.wall for r in rows if r.style == name),
            med(r.plan.wall / r.fast.wall for r in rows if r.style == name),
        )
        for name in sizes
    }
    rss, floor_rss = max(r.plan.rss_mb for r in rows), max(r.floor.rss_mb for r in rows)
    requests, logged = max(r.requests for r in rows), max(r.logged for r in rows)
    print(
        f"companies={counts['companies']} managed={rows[0].managed} customers={customers} "
        f"renamed={renamed} seeding={seeding:.0f}s; peak RSS {rss:.0f} MB (floor "
        f"{floor_rss:.0f} MB); requests {requests} (sandbox log {logged})\n{summary}"
    )
    for name, (ratio, fast) in per_style.items():
        print(
            f"  {name:<8} {sizes[name]:5.1f} MB  median {ratio:.2f}x the floor, "
            f"{fast:.2f}x the fast floor"
        )
    if args.no_record:
        return
    worst, worst_fast = max(r for r, _ in per_style.values()), max(f for _, f in per_style.values())
    met = {
        "wall": worst <= TARGET_RATIO,
        "fast floor": worst_fast <= TARGET_FAST_RATIO,
    }
    if args.customers >= TARGET_CUSTOMERS:
        met["requests"] = requests <= TARGET_REQUESTS and logged <= TARGET_REQUESTS
        met["RSS"] = rss < TARGET_RSS_MB
    verdict = ", ".join(f"{k} {'met' if ok else 'NOT met'}" for k, ok in met.items())
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    command = f"python benchmarks/bench_plan.py --customers {args.customers} --runs {args.runs}"
    command += f" --styles {args.styles}" if args.styles else ""
    section = (
        f"""
## Plan for {args.customers:,} customers in {len(sizes)} file style(s) (bench_plan, {stamp})

`{command}` on {platform.machine()}, {os.cpu_count()} CPUs, Python
{platform.python_version()}, load average {os.getloadavg()[0]:.1f} at the end: `sandbox seed`
population of {counts["companies"]:,} companies ({rows[0].managed:,} managed by the owner),
served on loopback (uvicorn subprocess, request log on); the owner's file of {customers:,}
customers (as `export` writes it, no expense configs), {renamed:,} of them renamed (the drift),
then the same state in each style of bench_validate's `styles()`. Per style, in turn:
`python -m reconcile plan FILE` as a subprocess; **the floor** (a fresh interpreter: PyYAML's C
loader on the file, the same {-(-customers // PAGE_SIZE)} pages with a bare httpx client one at
a time, `json.loads`); **the fast floor** (the same with yaml-rs reading the file and {AT_ONCE}
pages in flight, as the plan reads them). Ratios = plan wall / floor wall of the same triple.
CPU (user + system) and peak RSS of each child from `wait4`; requests: the plan's own count /
the sandbox's request log. The plan's last line: `{summary}`

| run | style | size | plan | CPU | RSS | floor | ratio | fast floor | ratio | fl. RSS | requests |
| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
"""
        + "".join(
            f"| {i // len(sizes) + 1} | {r.style} | {sizes[r.style]:.1f} MB | {r.plan.wall:.2f} s"
            f" | {r.plan.cpu:.2f} s | {r.plan.rss_mb:.0f} MB | {r.floor.wall:.2f} s"
            f" | {r.plan.wall / r.floor.wall:.2f}x | {r.fast.wall:.2f} s"
            f" | {r.plan.wall / r.fast.wall:.2f}x | {r.floor.rss_mb:.0f} MB"
            f" | {r.requests} / {r.logged} |\n"
            for i, r in enumerate(rows)
        )
        + "\nMedian per style: "
        + "; ".join(
            f"{name} {ratio:.2f}x the floor, {fast:.2f}x the fast floor"
            for name, (ratio, fast) in per_style.items()
        )
        + f". Peak RSS {rss:.0f} MB, {requests} requests. Targets (issue 27: <= "
        f"{TARGET_RATIO:.1f}x the floor in every style, <= {TARGET_FAST_RATIO:.1f}x the fast "
        f"floor"
        + (
            f"; at {TARGET_CUSTOMERS:,}: <= {TARGET_REQUESTS} requests, < {TARGET_RSS_MB} MB"
            if args.customers >= TARGET_CUSTOMERS
            else ""
        )
        + f"): {verdict}.\n"
    )
    with RESULTS.open("a", encoding="utf-8") as fh:
        fh.write(section)
    print(f"recorded in {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
