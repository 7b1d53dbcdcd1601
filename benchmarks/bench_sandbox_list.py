"""Benchmark: list 10,000 companies (with their connections) from a served sandbox.

Seeds 10,000 companies straight into a fresh SQLite store (each with an owner tag, a uid tag, an
accounting connection and, for half, a partner expense connection), serves it on loopback as a
real subprocess, then times what a plan costs: `GET /companies?tags=reconcile.owner=...` at
`pageSize=5000`, i.e. 2 requests, with httpx (decoding the JSON included).

Run from the project root: `python benchmarks/bench_sandbox_list.py [--companies N] [--runs N]`.
Prints the numbers and appends a dated section to benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import base64
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reconcile.sandbox.store import Store  # noqa: E402
from tests.support.sandbox_server import serve_sandbox  # noqa: E402

OWNER = "bench"
PAGE_SIZE = 5000
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
PLATFORMS = ("akxx", "pqsw", "qhyg", "knfz", "gbol", "trji", "fbrh", "rwuv")


def seed(db: Path, companies: int, base_url: str) -> float:
    started = time.perf_counter()
    store = Store(db)
    rows = (
        (
            f"Customer {i:05}",
            f"Benchmark customer {i}",
            {"reconcile.owner": OWNER, "reconcile.uid": f"cus-{i:05}"},
        )
        for i in range(companies)
    )
    ids = store.create_companies(rows, link_base_url=base_url)
    with store.transaction():
        for i, company_id in enumerate(ids):
            connection = store.create_connection(
                company_id, PLATFORMS[i % len(PLATFORMS)], base_url
            )
            if i % 2:
                store.set_connection_status(company_id, connection["id"], "Linked")
                store.create_partner_expense_connection(company_id, base_url)
    store.close()
    return time.perf_counter() - started


def list_all(client: httpx.Client) -> tuple[int, int, int]:
    """Walk every page; returns (requests, companies, bytes)."""
    requests = seen = size = 0
    page = 1
    while True:
        response = client.get(
            "/companies",
            params={"tags": f"reconcile.owner={OWNER}", "page": page, "pageSize": PAGE_SIZE},
        )
        response.raise_for_status()
        body = response.json()
        requests, seen, size = (
            requests + 1,
            seen + len(body["results"]),
            size + len(response.content),
        )
        if "next" not in body["_links"]:
            return requests, seen, size
        page += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--companies", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-record", action="store_true", help="Do not append to RESULTS.md.")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.db"
        seed_seconds = seed(db, args.companies, "http://127.0.0.1:8765")
        print(f"seeded {args.companies} companies in {seed_seconds:.2f}s")
        auth = {"Authorization": "Basic " + base64.b64encode(b"bench").decode()}
        with (
            serve_sandbox(db, "--daily-quota", "100000000") as url,
            httpx.Client(base_url=url, headers=auth, timeout=60) as client,
        ):
            list_all(client)  # warm-up: connections, page cache, imports
            timings = []
            for _ in range(args.runs):
                started = time.perf_counter()
                requests, seen, size = list_all(client)
                timings.append(time.perf_counter() - started)
    assert seen == args.companies, (seen, args.companies)
    best, median = min(timings), statistics.median(timings)
    print(
        f"listed {seen} companies in {requests} requests ({size / 1e6:.1f} MB):"
        f" best {best * 1000:.0f} ms, median {median * 1000:.0f} ms over {args.runs} runs"
    )
    if not args.no_record:
        record(args.companies, args.runs, requests, size, best, median, seed_seconds)


def record(
    companies: int, runs: int, requests: int, size: int, best: float, median: float, seed_s: float
) -> None:
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    machine, python = platform.machine(), platform.python_version()
    section = f"""
## Sandbox: list {companies:,} companies ({stamp})

`python benchmarks/bench_sandbox_list.py` on {machine}, Python {python}: a served sandbox
(uvicorn subprocess on loopback, SQLite WAL store) holding {companies:,} companies, each with an
accounting connection and half with a partner expense connection; the client lists them all with
`tags=reconcile.owner=...` at `pageSize={PAGE_SIZE}` (httpx, JSON decoded).

| requests | response bytes | best | median ({runs} runs) | seeding (direct store) |
| --- | --- | --- | --- | --- |
| {requests} | {size / 1e6:.1f} MB | {best * 1e3:.0f} ms | {median * 1e3:.0f} ms | {seed_s:.1f} s |
"""
    existing = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmark results\n"
    RESULTS.write_text(existing.rstrip("\n") + "\n" + section, encoding="utf-8")
    print(f"appended to {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
