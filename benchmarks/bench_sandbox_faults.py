"""Benchmark: what the sandbox's middleware costs, and exactly-once creation through faults.

1. In process (httpx.ASGITransport): `GET /companies/{id}` and keyed `POST /companies` through the
   bare core app and through the full stack (request log, faults, rate limits, idempotency):
   the per-request overhead of the layers.
2. Served on loopback (a real subprocess): N keyed creates, sequentially, without faults and then
   with a seeded mix of faults (5xx, 429, dropped connections, lost responses), by a client that
   retries every failure with the same `Idempotency-Key`. It must end with exactly N companies.
3. Seeding 10,000 companies with `seed_population`.

Run from the project root: `python benchmarks/bench_sandbox_faults.py [--creates N]`.
Prints the numbers (nothing is written to the project).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reconcile.sandbox.app import create_app, create_core  # noqa: E402
from reconcile.sandbox.layers.requestlog import read_log  # noqa: E402
from reconcile.sandbox.options import SandboxOptions  # noqa: E402
from reconcile.sandbox.seed import seed_population  # noqa: E402
from reconcile.sandbox.store import Store  # noqa: E402
from tests.support.sandbox_server import serve_sandbox  # noqa: E402

AUTH = {"Authorization": "Basic " + base64.b64encode(b"bench-key").decode()}
FAULTS = (
    "--error-rate",
    "0.1",
    "--throttle-rate",
    "0.05",
    "--drop-rate",
    "0.05",
    "--lost-response-rate",
    "0.05",
    "--seed",
    "1",
)
MAX_ATTEMPTS = 50


async def in_process(options: SandboxOptions, full: bool, requests: int) -> tuple[float, float]:
    app = create_app(options) if full else create_core(options)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1:8765", headers=AUTH
    ) as client:
        company = (await client.post("/companies", json={"name": "Bench"})).json()
        started = time.perf_counter()
        for _ in range(requests):
            (await client.get(f"/companies/{company['id']}")).raise_for_status()
        get_us = (time.perf_counter() - started) / requests * 1e6
        started = time.perf_counter()
        for n in range(requests):
            (
                await client.post(
                    "/companies",
                    json={"name": f"B{n}"},
                    headers={"Idempotency-Key": str(uuid.uuid4())},
                )
            ).raise_for_status()
        post_us = (time.perf_counter() - started) / requests * 1e6
    return get_us, post_us


def create_exactly_once(url: str, creates: int) -> tuple[float, Counter[str]]:
    """Keyed creates, each retried with its key until it answers 200."""
    attempts: Counter[str] = Counter()
    started = time.perf_counter()
    with httpx.Client(base_url=url, headers=AUTH, timeout=10) as client:
        for n in range(creates):
            headers = {"Idempotency-Key": str(uuid.uuid4())}
            for _ in range(MAX_ATTEMPTS):
                try:
                    response = client.post(
                        "/companies", json={"name": f"Once {n}"}, headers=headers
                    )
                except httpx.TransportError:
                    attempts["transport error"] += 1
                    continue
                attempts[str(response.status_code)] += 1
                if response.status_code == 200:
                    break
                # Honour Retry-After, capped so the benchmark measures the server, not sleeps.
                time.sleep(min(float(response.headers.get("Retry-After", 0)), 0.01))
            else:
                raise RuntimeError(f"create {n} never succeeded")
    return time.perf_counter() - started, attempts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--creates", type=int, default=500)
    parser.add_argument("--in-process", type=int, default=2000)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        options = SandboxOptions(
            db_path=tmp_path / "inproc.db",
            daily_quota=10_000_000,
            request_log=tmp_path / "inproc.jsonl",
        )
        core_get, core_post = asyncio.run(in_process(options, False, args.in_process))
        full_get, full_post = asyncio.run(in_process(options, True, args.in_process))
        print(f"in process, {args.in_process} requests each (mean per request):")
        print(
            f"  GET  /companies/{{id}}: core {core_get:7.0f} us, full stack {full_get:7.0f} us"
            f" (+{full_get - core_get:.0f} us)"
        )
        print(
            f"  POST /companies keyed: core {core_post:7.0f} us, full stack {full_post:7.0f} us"
            f" (+{full_post - core_post:.0f} us)"
        )

        for label, extra in (("no faults", ()), ("seeded faults", FAULTS)):
            db = tmp_path / f"{label.replace(' ', '-')}.db"
            log = tmp_path / f"{label.replace(' ', '-')}.jsonl"
            with serve_sandbox(
                db, "--daily-quota", "10000000", "--request-log", str(log), *extra
            ) as url:
                seconds, attempts = create_exactly_once(url, args.creates)
            store = Store(db)
            created = store.count_companies()
            store.close()
            faults = Counter(str(e["fault"]) for e in read_log(log))
            replays = sum(1 for e in read_log(log) if e["idempotency"] == "replayed")
            print(
                f"served, {args.creates} keyed creates with retries, {label}: "
                f"{seconds:.2f} s ({args.creates / seconds:.0f} creates/s), "
                f"{sum(attempts.values())} attempts {dict(attempts)}, faults {dict(faults)}, "
                f"{replays} replays, companies created: {created}"
            )
            assert created == args.creates, "a retried create was duplicated or lost"

        started = time.perf_counter()
        seed_population(tmp_path / "seed.db", 10_000, "bench", seed=1)
        print(f"seed_population(10,000 companies): {time.perf_counter() - started:.2f} s")


if __name__ == "__main__":
    main()
