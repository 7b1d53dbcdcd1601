"""Benchmark: converge and watch at fleet size (issues 16, 18 and 27): the follow-up of one
authorization costs a handful of requests for that company, a resync reads the listing and what
changed, the watch's day stays within 10% of Codat's client limit, and an idle watch holds little
memory.

Seeds a sandbox with `sandbox seed`'s population (the benchmark owner manages about 70% of it),
gives every Linked customer of the owner its partner expense connection and an expense config
(a realistic fleet: Sync for Expenses needs one for every customer that syncs), serves it on
loopback as a real subprocess with a request log, exports the owner's companies to a
desired-state file (every Linked customer with its `expenseConfig`), and then measures, each
against the sandbox's own request log:

- plan: `read_live` + `make_plan` of the file (the yardstick of a full pass);
- full pass: one full `run_pass` (what `converge` does, and the watch at its start);
- the watch's steady state, in process with injected clocks: its start's full pass, then
  `--resyncs` resyncs 10 minutes apart (the default `--resync`) with the daily config sweep;
  requests per resync measured, per day projected (144 resyncs), beside the budget (10% of
  Codat's client limit, the greater of 1,000 and 100 per active connected company);
- the same from a real `reconcile watch --resync 3s` subprocess: the requests per resync the
  sandbox saw over several resyncs (with a 3 s period the sweep owes next to nothing per
  resync: these are the listing's and the changes' own);
- one authorization, converge: a customer authorizes (the store is written from this process,
  as `sandbox authorize` does from its own), then `run_pass(company_ids={that company})`;
- one authorization, watch: a `reconcile watch` subprocess over the same file; after its first
  resync, its resident memory while idle; then a customer authorizes, a signed webhook names the
  company, and the time until the watch made its partner expense connection and the requests it
  sent for it.

Run from the project root: `python benchmarks/bench_watch.py [--companies N] [--resyncs N]`.
Prints the numbers and appends a dated section to benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from standardwebhooks.webhooks import Webhook

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reconcile.codat import ClientSettings, CodatClient  # noqa: E402
from reconcile.codat.readonly import ReadOnlyClient  # noqa: E402
from reconcile.converge import run_pass  # noqa: E402
from reconcile.desired import load  # noqa: E402
from reconcile.executor import Stopper  # noqa: E402
from reconcile.export import export_text  # noqa: E402
from reconcile.facts.export import read_for_export  # noqa: E402
from reconcile.facts.fleet import read_live  # noqa: E402
from reconcile.model import DesiredState  # noqa: E402
from reconcile.planner import make_plan  # noqa: E402
from reconcile.sandbox.layers.requestlog import read_log  # noqa: E402
from reconcile.sandbox.seed import seed_population  # noqa: E402
from reconcile.sandbox.store import Store  # noqa: E402
from reconcile.watch.budget import Budget, BudgetSetting  # noqa: E402
from reconcile.watch.passes import pass_runner  # noqa: E402
from reconcile.watch.resync import ResyncReads  # noqa: E402
from reconcile.watch.sweep import ConfigSweep  # noqa: E402
from tests.support.sandbox_server import serve_sandbox  # noqa: E402

OWNER = "bench"
KEY = "bench-key"
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
LISTENING = re.compile(r"watch listening on (http://\S+)")
STATUS_LISTENING = re.compile(r"status and metrics on (http://\S+)")
RESYNC_SECONDS = 600  # the watch's default --resync
DAY_SECONDS = 86_400
# An expense config every seeded platform's mapping options accept (`sandbox seed`'s own).
CONFIG = {"bankAccount": {"id": "89"}, "supplier": {"id": "124"}, "customer": {"id": "140"}}


def configure_every_linked(db: Path) -> int:
    """Every company of the owner whose accounting connection is Linked gets its partner expense
    connection and an expense config (where it has none); returns how many are configured."""
    store = Store(db)
    configured = 0
    try:
        with store.transaction():
            for company in store.find_companies_by_tag("reconcile.owner", OWNER):
                connections = company.get("dataConnections") or []
                if not any(
                    c["sourceType"] == "Accounting" and c["status"] == "Linked" for c in connections
                ):
                    continue
                if not any(c["sourceType"] == "Expense" for c in connections):
                    store.create_partner_expense_connection(company["id"], "https://link.example")
                if store.get_expense_config(company["id"]) is None:
                    store.set_expense_config(company["id"], CONFIG)
                configured += 1
    finally:
        store.close()
    return configured


def pending_customers(url: str, desired: DesiredState, count: int) -> list[tuple[str, str]]:
    """(company id, accounting connection id) of customers that want the partner expense
    connection and whose accounting connection awaits authorization (nothing else active)."""
    wanted = {c.uid for c in desired.customers if c.expenses and c.accounting}
    auth = {"Authorization": "Basic " + base64.b64encode(KEY.encode()).decode()}
    params = {"tags": f"reconcile.owner={OWNER}", "pageSize": 5000}
    found: list[tuple[str, str]] = []
    with httpx.Client(base_url=url, headers=auth, timeout=60) as client:
        for company in client.get("/companies", params=params).json()["results"]:
            connections = company.get("dataConnections") or []
            if company["tags"].get("reconcile.uid") not in wanted:
                continue
            pending = [c for c in connections if c["status"] == "PendingAuth"]
            if pending and len(pending) == len(
                [c for c in connections if c["status"] != "Unlinked"]
            ):
                found.append((company["id"], pending[0]["id"]))
                if len(found) == count:
                    break
    return found


def authorize(db: Path, company_id: str, connection_id: str) -> None:
    store = Store(db)
    try:
        store.set_connection_status(company_id, connection_id, "Linked")
    finally:
        store.close()


def writes_of(log: list[dict[str, Any]]) -> list[str]:
    return [f"{e['method']} {e['path']}" for e in log if e["method"] != "GET"]


async def measure_passes(url: str, desired: DesiredState, db: Path) -> dict[str, Any]:
    settings = ClientSettings(base_url=url)
    out: dict[str, Any] = {}
    async with ReadOnlyClient(KEY, settings) as client:
        wall, cpu = time.perf_counter(), time.process_time()
        live = await read_live(client, desired, frozenset())
        make_plan(desired, live)
        out["plan"] = (client.requests_sent, time.perf_counter() - wall, time.process_time() - cpu)
    async with CodatClient(KEY, settings) as client:
        wall, cpu = time.perf_counter(), time.process_time()
        result = await run_pass(desired, client)
        out["resync"] = (result.requests, time.perf_counter() - wall, time.process_time() - cpu)
    (company_id, connection_id), *_ = pending_customers(url, desired, 1)
    authorize(db, company_id, connection_id)
    async with CodatClient(KEY, settings) as client:
        wall, cpu = time.perf_counter(), time.process_time()
        result = await run_pass(desired, client, company_ids={company_id})
        applied = [o.action.kind.value for o in result.applied.outcomes if o.status == "applied"]
        out["one"] = (result.requests, time.perf_counter() - wall, time.process_time() - cpu)
        out["one_applied"] = applied
    return out


async def measure_steady_state(url: str, desired: DesiredState, resyncs: int) -> dict[str, Any]:
    """The watch's passes in process with injected clocks: the start's full pass, then `resyncs`
    resyncs RESYNC_SECONDS apart with the default daily sweep and budget."""
    ticks = [1000.0]
    day = [datetime(2026, 12, 1, 0, 0, tzinfo=UTC)]
    logged: list[str] = []
    async with CodatClient(KEY, ClientSettings(base_url=url)) as client:
        budget = Budget(BudgetSetting(), lambda: client.requests_sent, clock=lambda: day[0])
        sweep = ConfigSweep(DAY_SECONDS, lambda: ticks[0])
        reads = ResyncReads(sweep, budget, RESYNC_SECONDS, logged.append)
        run = pass_runner(client, reads)
        sent, wall = client.requests_sent, time.perf_counter()
        await run(desired, None, Stopper(), True)
        full = (client.requests_sent - sent, time.perf_counter() - wall)
        per: list[tuple[int, float, int]] = []
        for _ in range(resyncs):
            ticks[0] += RESYNC_SECONDS
            day[0] += timedelta(seconds=RESYNC_SECONDS)
            sent, wall = client.requests_sent, time.perf_counter()
            await run(desired, None, Stopper(), False)
            swept = len(reads.last.slice.ids) if reads.last and reads.last.slice else 0
            per.append((client.requests_sent - sent, time.perf_counter() - wall, swept))
        return {
            "full": full,
            "resyncs": per,
            "due": sweep.due,
            "active": budget.active_companies,
            "limit": budget.client_limit,
            "budget": budget.budget,
            "slowed": reads.slowed,
            "logged": logged,
        }


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


@contextmanager
def running_watch(
    path: Path, url: str, secret: str, log: Path, *args: str
) -> Iterator[tuple[str, str, int]]:
    """The watch's public URL, its internal (/status) URL and its pid."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CODAT_")}
    env.update(CODAT_BASE_URL=url, CODAT_API_KEY=KEY, CODAT_WEBHOOK_SECRET=secret, NO_COLOR="1")
    with log.open("w") as err:
        process = subprocess.Popen(
            [
                *(sys.executable, "-m", "reconcile", "watch", str(path), "--listen", "127.0.0.1:0"),
                *("--status-listen", "127.0.0.1:0", "--state-dir", str(log.parent / "state")),
                *args,
            ],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
        try:
            deadline = time.monotonic() + 120
            while (status := STATUS_LISTENING.search(log.read_text())) is None:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"watch did not start: {log.read_text()}")
                time.sleep(0.1)
            match = LISTENING.search(log.read_text())
            assert match is not None  # logged before the status line
            yield match.group(1), status.group(1), process.pid
        finally:
            process.terminate()
            process.wait(timeout=60)


def wait_status(url: str, check: Any, timeout: float = 600) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status: dict[str, Any] = httpx.get(url + "/status", timeout=10).json()
        if check(status):
            return status
        time.sleep(0.05)
    raise RuntimeError("the watch did not get there in time")


def deliver(url: str, secret: str, company_id: str) -> float:
    event = {
        "id": str(uuid.uuid4()),
        "eventType": "connection.connected",
        "generatedDate": datetime.now(UTC).isoformat(),
        "payload": {"referenceCompany": {"id": company_id}, "connection": {"status": "Linked"}},
    }
    body = json.dumps(event)
    message_id, now = f"msg_{uuid.uuid4().hex}", datetime.now(UTC)
    headers = {
        "content-type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, now, body),
    }
    started = time.perf_counter()
    answer = httpx.post(url + "/webhooks/codat", content=body, headers=headers, timeout=10)
    answer.raise_for_status()
    return started


def measure_watch(path: Path, url: str, db: Path, log: Path, work: Path) -> dict[str, Any]:
    desired = load([path])
    secret = "whsec_" + base64.b64encode(os.urandom(24)).decode()
    out: dict[str, Any] = {}
    with running_watch(path, url, secret, work / "watch.log") as (watch, internal, pid):
        first = wait_status(internal, lambda s: s["passes"] >= 1 and s["queued_companies"] == 0)
        time.sleep(2)
        out["idle_rss_mib"] = rss_kib(pid) / 1024
        (company_id, connection_id), *_ = pending_customers(url, desired, 1)
        authorize(db, company_id, connection_id)
        mark = len(read_log(log))
        started = deliver(watch, secret, company_id)
        passes = first["passes"]
        wait_status(internal, lambda s: s["passes"] > passes and s["queued_companies"] == 0)
        out["event_seconds"] = time.perf_counter() - started
        during = read_log(log)[mark:]
        out["event_requests"] = len(during)
        out["event_writes"] = writes_of(during)
    return out


def measure_watch_resyncs(
    path: Path, url: str, log: Path, work: Path, count: int
) -> dict[str, Any]:
    """A real watch with `--resync 3s`: the requests the sandbox saw per resync, over `count`
    resyncs after its start's full pass."""
    secret = "whsec_" + base64.b64encode(os.urandom(24)).decode()
    with running_watch(path, url, secret, work / "watch-resync.log", "--resync", "3s") as (
        _public,
        internal,
        _pid,
    ):
        first = wait_status(internal, lambda s: s["passes"] >= 1 and s["queued_companies"] == 0)
        mark, start = len(read_log(log)), first["passes"]
        done = wait_status(internal, lambda s: s["passes"] >= start + count)
        during = read_log(log)[mark:]
        requests = done["requests"]
    return {
        "resyncs": done["passes"] - start,
        "requests": len(during),
        "writes": writes_of(during),
        "status": requests,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--companies", type=int, default=14_300)  # ~10,000 managed
    parser.add_argument("--resyncs", type=int, default=12, help="resyncs measured in process")
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        db, log = work / "sandbox.db", work / "requests.jsonl"
        seed_population(db, args.companies, owner=OWNER)
        configured = configure_every_linked(db)
        with serve_sandbox(db, "--daily-quota", "none", "--request-log", str(log)) as url:

            async def export() -> str:
                async with ReadOnlyClient(KEY, ClientSettings(base_url=url)) as client:
                    selection, configs = await read_for_export(client, OWNER, adopt=False)
                    return export_text(OWNER, selection, configs, adopt=False)[0]

            path = work / "customers.yaml"
            path.write_text(asyncio.run(export()))
            desired = load([path])
            steady = asyncio.run(measure_steady_state(url, desired, args.resyncs))
            real = measure_watch_resyncs(path, url, log, work, 4)
            passes = asyncio.run(measure_passes(url, desired, db))
            watch = measure_watch(path, url, db, log, work)
    with_config = sum(1 for c in desired.customers if c.expense_config is not None)
    report(
        len(desired.customers),
        passes,
        watch,
        record=not args.no_record,
        steady=steady,
        real=real,
        configured=(configured, with_config),
    )


def report(
    customers: int,
    passes: dict[str, Any],
    watch: dict[str, Any],
    *,
    record: bool,
    steady: dict[str, Any],
    real: dict[str, Any],
    configured: tuple[int, int],
) -> None:
    plan, resync, one = passes["plan"], passes["resync"], passes["one"]
    per = steady["resyncs"]
    mean = sum(r[0] for r in per) / len(per)
    swept = sum(r[2] for r in per)
    beyond = (sum(r[0] for r in per) - swept) / len(per)  # listing and changes, per resync
    # The start's pass reads health too (daily, whatever policy.auto says); a plain full pass
    # does not: the difference is the daily health read.
    health = max(0, steady["full"][0] - resync[0])
    per_day_measured = mean * DAY_SECONDS / RESYNC_SECONDS + health
    per_day = beyond * DAY_SECONDS / RESYNC_SECONDS + steady["due"] + health
    budget, limit = steady["budget"], steady["limit"]
    real_per = real["requests"] / max(real["resyncs"], 1)
    lines = [
        f"## bench_watch: {customers:,} managed customers "
        f"({datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}, "
        f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f})",
        "",
        "`python benchmarks/bench_watch.py` (seeded population; every Linked customer of the owner "
        f"given its partner expense connection and an expense config: {configured[0]:,} "
        f"companies, {configured[1]:,} customers of the file carry `expenseConfig`).",
        "",
        "| what | requests | wall s | CPU s |",
        "| --- | ---: | ---: | ---: |",
        f"| plan (read_live + make_plan) | {plan[0]:,} | {plan[1]:.2f} | {plan[2]:.2f} |",
        f"| full pass (converge; the watch's start) | {resync[0]:,} | {resync[1]:.2f} "
        f"| {resync[2]:.2f} |",
        f"| one authorization, converge --company | {one[0]} | {one[1]:.2f} | {one[2]:.2f} |",
        f"| one authorization, watch (webhook to done) | {watch['event_requests']} "
        f"| {watch['event_seconds']:.2f} | |",
        "",
        f"The watch's steady state ({len(per)} resyncs {RESYNC_SECONDS // 60} minutes apart on "
        "injected clocks after its start's full pass, the daily config sweep, the default "
        "budget; in process against the served sandbox):",
        "",
        "| what | requests |",
        "| --- | ---: |",
        f"| start (full pass: every config, and the health read) | {steady['full'][0]:,} |",
        f"| of which the daily health read (data status, the config's records) | {health:,} |",
        f"| a resync, mean (min-max) | {mean:.1f} ({min(r[0] for r in per)}-"
        f"{max(r[0] for r in per)}) |",
        f"| of which the listing and what changed, per resync | {beyond:.1f} |",
        f"| of which the config sweep, per resync | {swept / len(per):.1f} "
        f"(of {steady['due']:,} due a day) |",
        f"| a day, projected from the measured resyncs (x {DAY_SECONDS // RESYNC_SECONDS}) "
        f"+ the health read | {per_day_measured:,.0f} |",
        f"| a day: the listing per resync x {DAY_SECONDS // RESYNC_SECONDS} + every config "
        f"once + the health read | {per_day:,.0f} |",
        f"| budget: 10% of Codat's client limit ({limit:,} for {steady['active']:,} active "
        f"companies) | {budget:,} |",
        "",
        f"- Steady state: {max(per_day, per_day_measured):,.0f} requests a day, "
        f"{max(per_day, per_day_measured) / max(budget, 1):.0%} of the budget, "
        f"{max(per_day, per_day_measured) / max(limit, 1):.1%} of Codat's client limit "
        f"(before issue 27 every resync was a full pass: {resync[0]:,} x "
        f"{DAY_SECONDS // RESYNC_SECONDS} = {resync[0] * DAY_SECONDS // RESYNC_SECONDS:,} a day). "
        f"Sweep slowed by the budget: {'yes' if steady['slowed'] else 'no'}.",
        f"- A real `reconcile watch --resync 3s`: {real['requests']} requests over "
        f"{real['resyncs']} resyncs ({real_per:.1f} each; writes: "
        f"{', '.join(real['writes']) or 'none'}); its /status said "
        f"{real['status']['requests_today']:,} requests today against a budget of "
        f"{real['status']['budget']:,}.",
        f"- Full pass / plan: {resync[0] / max(plan[0], 1):.2f}x the requests, "
        f"{resync[1] / max(plan[1], 1e-9):.2f}x the wall time.",
        f"- One authorization applied {', '.join(passes['one_applied']) or 'nothing'}; "
        f"the watch's writes for its event: {', '.join(watch['event_writes']) or 'none'}.",
        f"- Watch resident memory while idle after its first resync: "
        f"{watch['idle_rss_mib']:.0f} MiB.",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if record:
        with RESULTS.open("a", encoding="utf-8") as handle:
            handle.write("\n" + text)


if __name__ == "__main__":
    main()
