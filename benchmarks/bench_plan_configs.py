"""Benchmark: what expense configs cost a plan (issue 27), on a fleet that syncs expenses.

For `--customers N` (default 10,000):

1. Seeds a sandbox with `sandbox seed`'s population of about 1.43 x N companies, every company
   whose accounting connection is Linked with an expense config (`--expense-configs 1.0`), and
   writes the owner's file as `reconcile export` would: every managed company a customer, each
   Linked one with its live config (read from the sandbox's file, not through the API). That is
   the base (the default branch). The pull request's file renames `--changed` customers that
   have a config (a change that costs no mapping-options read; a changed config costs one more
   each, measured too).
2. (a) `reconcile plan HEAD --base BASE` against the served sandbox (no latency): the requests
   the sandbox logged during it (target: at most 3 + changed: the listing pages, `GET /profile`,
   one config per changed customer), the paths by kind, and the wall time beside the plain plan's.
3. (b) For each `--latency-ms` (default 20 and 150; the sandbox's `latency_ms`, a sleep before
   each API request is handled): the full plan (`reconcile plan BASE`, every config read) as a
   subprocess, and side by side in the same run a bare asyncio client (aiohttp in a fresh
   interpreter, no reconciler code) making the same reads: the listing pages, then the configs
   of the same companies, with the same number in flight
   (`reconcile.facts.configs.READS_IN_FLIGHT`), in turn for `--rounds` rounds (default 3: on a
   shared machine one run is mostly noise). Target: the median round's plan reads <= 1.1x the
   bare client's.

Run from the project root: `python benchmarks/bench_plan_configs.py [--customers N]`.
Prints the numbers and appends a dated section to benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_plan import (  # noqa: E402
    Run,
    compile_package,
    log_lines,
    logged_since,
    measure,
)
from benchmarks.plan_configs_report import Row, load_text, record_lines  # noqa: E402
from reconcile.codat import ClientSettings, CodatClient  # noqa: E402
from reconcile.codat.answers import parse_expense_config  # noqa: E402
from reconcile.desired import dump  # noqa: E402
from reconcile.export import select, to_customer  # noqa: E402
from reconcile.facts.configs import READS_IN_FLIGHT  # noqa: E402
from reconcile.facts.fleet import owner_filter  # noqa: E402
from reconcile.model import (  # noqa: E402
    OWNER_TAG,
    DesiredState,
    ExpenseConfig,
)
from reconcile.sandbox.layers.requestlog import read_log  # noqa: E402
from reconcile.sandbox.seed import plan_population, seed_population  # noqa: E402
from reconcile.sandbox.store import Store  # noqa: E402
from tests.support.sandbox_server import serve_sandbox  # noqa: E402

OWNER = "bench"
KEY = "bench-key"
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
COMPANIES_PER_CUSTOMER = 1.43
PAGE_SIZE = 5000

# The yardstick: the same reads with a bare asyncio client, in a fresh interpreter.
BARE = """
import asyncio, base64, json, sys, time
started = time.perf_counter()
import aiohttp
url, key, owner, pages, size, ids_path, at_once, yaml_path = sys.argv[1:9]
if yaml_path:  # the floor of the whole command: the file parsed too (PyYAML's C loader)
    import yaml
    with open(yaml_path, encoding="utf-8") as fh:
        yaml.load(fh, Loader=yaml.CSafeLoader)
ids = json.load(open(ids_path))
auth = {"Authorization": "Basic " + base64.b64encode(key.encode()).decode()}
async def main():
    connector = aiohttp.TCPConnector(limit=int(at_once))
    async with aiohttp.ClientSession(url, headers=auth, connector=connector) as http:
        async def page(n):
            params = {"page": n, "pageSize": size, "tags": "reconcile.owner=" + owner}
            async with http.get("/companies", params=params) as answer:
                return len(json.loads(await answer.read())["results"])
        listed = sum(await asyncio.gather(*(page(n) for n in range(1, int(pages) + 1))))
        gate = asyncio.Semaphore(int(at_once))
        async def config(cid):
            async with gate:
                async with http.get(f"/companies/{cid}/sync/expenses/config") as answer:
                    return json.loads(await answer.read()) if answer.status == 200 else None
        configs = await asyncio.gather(*(config(c) for c in ids))
        return listed, sum(1 for c in configs if c)
reading = time.perf_counter()
listed, configured = asyncio.run(main())
print(listed, configured, f"{time.perf_counter() - reading:.3f}")
"""


def population_for(customers: int) -> int:
    """The largest seeded population (about 1.43 x `customers` companies) whose owner has at
    most `customers` companies: their listing is then exactly ceil(customers / 5,000) pages."""
    companies = round(customers * COMPANIES_PER_CUSTOMER)
    while True:
        tags = (t for _, _, t, _, _ in plan_population(companies, (OWNER,), 0))
        managed = sum(1 for t in tags if t.get(OWNER_TAG) == OWNER)
        if managed <= customers:
            return companies
        companies -= managed - customers


def live_configs(db: Path, ids: list[str]) -> dict[str, ExpenseConfig | None]:
    store = Store(db)
    try:
        return {cid: parse_expense_config(store.get_expense_config(cid), "sandbox") for cid in ids}
    finally:
        store.close()


async def write_files(
    url: str, db: Path, base: Path, head: Path, changed: int
) -> tuple[int, list[str], list[str]]:
    """The base file (as export writes it, configs included) and the pull request's (`changed`
    configured customers renamed); (customers, ids of the configured companies, changed uids)."""
    async with CodatClient(KEY, ClientSettings(base_url=url, timeout=120)) as client:
        companies = await client.list_companies(tags=owner_filter(OWNER))
    selection = select(OWNER, companies, adopt=False)
    linked = [e.company.id for e in selection.entries if e.config_due]
    configs = live_configs(db, linked)
    customers = [to_customer(e, configs.get(e.company.id)) for e in selection.entries]
    base.write_text(dump(DesiredState(OWNER, tuple(customers))), encoding="utf-8")
    configured = [i for i, c in enumerate(customers) if c.expense_config is not None]
    step = max(1, len(configured) // max(1, changed))
    picked = set(configured[::step][:changed])
    renamed = [
        replace(c, name=f"{c.name} renamed") if i in picked else c for i, c in enumerate(customers)
    ]
    head.write_text(dump(DesiredState(OWNER, tuple(renamed))), encoding="utf-8")
    pairs = zip(selection.entries, customers, strict=True)
    ids = [e.company.id for e, c in pairs if c.expense_config is not None]
    return len(customers), ids, sorted(customers[i].uid for i in picked)


def kinds(paths: list[str]) -> Counter[str]:
    """Requests by what they read."""
    found: Counter[str] = Counter()
    for path in paths:
        if path == "/profile":
            found["profile"] += 1
        elif path == "/companies":
            found["listing pages"] += 1
        elif path.endswith("/sync/expenses/config"):
            found["configs"] += 1
        elif path.endswith("/sync/expenses/mappingOptions"):
            found["mapping options"] += 1
        else:
            found["other"] += 1
    return found


def plan_reads(
    log: Path, argv: list[str], env: dict[str, str], folder: Path
) -> tuple[Run, list[str]]:
    before = log_lines(log)
    run = measure(argv, env, folder)
    if run.returncode != 0:
        sys.exit(f"plan failed ({run.returncode}):\n{run.stderr[-3000:]}")
    logged_since(log, before)
    return run, [e["path"] for e in read_log(log)[before:]]


def timed_plan(argv: list[str], env: dict[str, str], folder: Path) -> tuple[Run, float]:
    """The plan as a subprocess, and its read phase: from its "Reading FILE" line on stderr
    (the file is loaded) to its "Reading Codat" line (every read answered)."""
    out = folder / "plan-out.txt"
    seen: list[tuple[float, str]] = []
    with out.open("wb") as stdout:
        started = time.perf_counter()
        child = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=stdout, stderr=subprocess.PIPE, text=True
        )
        assert child.stderr is not None
        for line in child.stderr:
            seen.append((time.perf_counter(), line))
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
    stderr = "".join(line for _, line in seen)
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        sys.exit(f"plan failed ({code}):\n{stderr[-3000:]}")
    begun = next(t for t, line in seen if line.startswith("Reading ") and "Codat" not in line)
    read = next(t for t, line in seen if line.startswith("Reading Codat"))
    run = Run(
        wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, code,
        out.read_text(encoding="utf-8"), stderr,
    )  # fmt: skip
    return run, read - begun


@contextmanager
def served(db: Path, log: Path, latency_ms: int) -> Iterator[str]:
    args = ("--api-key", KEY, "--daily-quota", "none", "--request-log", str(log))
    with serve_sandbox(db, *args, "--latency-ms", str(latency_ms)) as url:
        yield url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--changed", type=int, default=10)
    parser.add_argument("--latency-ms", type=int, nargs="*", default=[20, 150])
    parser.add_argument(
        "--rounds", type=int, default=3, help="plan and bare client in turn, per latency"
    )
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    companies = population_for(args.customers)
    compile_package()
    lines: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        db, log = folder / "sandbox.db", folder / "requests.jsonl"
        base, head = folder / "main.yaml", folder / "pr.yaml"
        rebanked = folder / "pr-configs.yaml"
        counts = seed_population(db, companies, OWNER, seed=0, expense_configs=1.0)
        env = {**os.environ, "CODAT_API_KEY": KEY, "NO_COLOR": "1"}
        env.pop("RECONCILE_SANDBOX_DAILY_QUOTA", None)
        py = [sys.executable, "-m", "reconcile", "plan"]
        with served(db, log, 0) as url:
            env["CODAT_BASE_URL"] = url
            customers, ids, changed = asyncio.run(write_files(url, db, base, head, args.changed))
            config_changed(head, rebanked, changed)
            pr, pr_paths = plan_reads(log, [*py, str(head), "--base", str(base)], env, folder)
            pr2, pr2_paths = plan_reads(log, [*py, str(rebanked), "--base", str(base)], env, folder)
            full, full_paths = plan_reads(log, [*py, str(base)], env, folder)
        pages = -(-customers // PAGE_SIZE)
        limit = 3 + args.changed
        pr_kinds, pr2_kinds, full_kinds = kinds(pr_paths), kinds(pr2_paths), kinds(full_paths)
        size_mb = base.stat().st_size / 1e6
        print(
            f"companies={counts['companies']} customers={customers} configured={len(ids)} "
            f"file={size_mb:.1f}MB\n"
            f"(a) PR plan, {args.changed} renamed: {len(pr_paths)} requests {dict(pr_kinds)} "
            f"{pr.wall:.2f} s (target <= {limit}); {args.changed} configs changed: "
            f"{len(pr2_paths)} requests {dict(pr2_kinds)} {pr2.wall:.2f} s; plain plan "
            f"{len(full_paths)} requests {dict(full_kinds)} {full.wall:.2f} s",
            flush=True,
        )
        note = next((ln for ln in pr.stdout.splitlines() if "were not read" in ln), "(none)")
        ids_path = folder / "ids.json"
        ids_path.write_text(json.dumps(ids))
        rows: list[Row] = []
        for latency in args.latency_ms:
            with served(db, log, latency) as url:
                env["CODAT_BASE_URL"] = url
                bare_argv = [
                    sys.executable, "-c", BARE, url, KEY, OWNER, str(pages), str(PAGE_SIZE),
                    str(ids_path), str(READS_IN_FLIGHT),
                ]  # fmt: skip
                for _ in range(args.rounds):
                    rows.append(one_round(latency, [*py, str(base)], bare_argv, env, folder, log))
        lines = record_lines(
            args, counts, customers, len(ids), size_mb, limit, (pr, pr_paths, pr_kinds),
            (pr2, pr2_paths, pr2_kinds), (full, full_paths, full_kinds), note, rows,
        )  # fmt: skip
    if not args.no_record:
        with RESULTS.open("a", encoding="utf-8") as fh:
            fh.write("\n".join(lines) + "\n")
        print(f"recorded in {RESULTS.relative_to(ROOT)}")


def one_round(
    latency: int, plan_argv: list[str], bare_argv: list[str], env: dict[str, str], folder: Path,
    log: Path,
) -> Row:  # fmt: skip
    """The full plan, then the bare client, then the bare client with the file parsed."""
    before = log_lines(log)
    plan, plan_read = timed_plan(plan_argv, env, folder)
    requests = logged_since(log, before)
    bare = measure([*bare_argv, ""], env, folder)
    floor = measure([*bare_argv, plan_argv[-1]], env, folder)
    for failed in (r for r in (bare, floor) if r.returncode != 0):
        sys.exit(f"bare client failed:\n{failed.stderr[-3000:]}")
    bare_read = float(bare.stdout.split()[-1])
    print(
        f"(b) load {load_text()}, {latency} ms: plan {plan.wall:.2f} s (reads {plan_read:.2f} s, "
        f"{requests} requests, CPU {plan.cpu:.2f} s); bare client {bare.wall:.2f} s "
        f"(reads {bare_read:.2f} s: {bare.stdout.strip()}), with the file parsed "
        f"{floor.wall:.2f} s; reads {plan_read / bare_read:.2f}x, whole "
        f"{plan.wall / floor.wall:.2f}x",
        flush=True,
    )
    return Row(latency, plan, plan_read, requests, bare, bare_read, floor)


def config_changed(head: Path, out: Path, uids: list[str]) -> None:
    """The pull request's file with the renamed customers' bank account changed instead."""
    from reconcile.desired import load

    desired = load([head])
    wanted = set(uids)
    customers = []
    for c in desired.customers:
        if c.uid in wanted and c.expense_config is not None:
            other = "90" if c.expense_config.bank_account == "89" else "89"
            name = c.name.removesuffix(" renamed")
            c = replace(c, name=name, expense_config=replace(c.expense_config, bank_account=other))
        customers.append(c)
    out.write_text(dump(replace(desired, customers=tuple(customers))), encoding="utf-8")


if __name__ == "__main__":
    main()
