"""Benchmark: a full plan's expense-config reads against Codat's 1,000 requests a minute per IP.

The real reads (`reconcile.facts.configs.read_config_ids`: 100 in flight, one per company) and
the real client (`CodatClient`, its retries: 6 attempts, `Retry-After` capped at 30 s) against
a fake Codat (`httpx.MockTransport`) that answers each read after `--latency-ms` and refuses,
with 429 and a `Retry-After` of the seconds until a slot frees, any request beyond 1,000 in the
last 60 seconds (a sliding window: the strictest reading of Codat's limit). Virtual time
(`tests.support.virtual_time`): minutes of Codat pass in seconds, exactly.

Three clients, in the same run:
- **before**: unpaced, each 429 waited out by its own request only (the client before pacing);
- **shared pause**: unpaced, a 429's `Retry-After` holding every request of the client
  (`--requests-per-minute 0` against Codat);
- **paced**: the default against Codat, at most 1,000 started in any 60 s, and the shared pause.

For each: the minutes the reads took, the requests sent, the 429s met and the configs read and
left out. Also the pacer's own CPU per request (real time), paced and unpaced.

Run from the project root: `python benchmarks/bench_pacing.py [--configs N] [--latency-ms N ...]
[--no-record]`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sys
import time
import uuid
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reconcile.codat import ClientSettings, CodatClient  # noqa: E402
from reconcile.codat.pacing import CODAT_REQUESTS_PER_MINUTE, Pacer  # noqa: E402
from reconcile.facts.configs import read_config_ids  # noqa: E402
from tests.support.virtual_time import clock, run_virtual  # noqa: E402

RESULTS = ROOT / "benchmarks" / "RESULTS.md"
URL = "https://api.codat.io"
CONFIG = {"bankAccount": {"id": "89"}, "supplier": {"id": "124"}, "customer": {"id": "140"}}
ERROR = {"statusCode": 429, "error": "Too many requests", "canBeRetried": "Unknown"}


class _OwnWaitOnly(Pacer):
    """The client before pacing: no pace, and a 429's `Retry-After` holds only the request
    that got it (each read is a task of its own)."""

    def __init__(self) -> None:
        super().__init__(None, clock=clock)
        self._own: dict[asyncio.Task[object] | None, float] = {}

    def pause(self, seconds: float) -> None:
        self._own[asyncio.current_task()] = seconds

    async def start(self, time_left: float | None) -> bool:
        wait = self._own.pop(asyncio.current_task(), 0.0)
        if wait > 0:
            await asyncio.sleep(wait)
        return True


@dataclass
class Outcome:
    name: str
    latency_ms: int
    minutes: float
    sent: int
    refused: int
    read: int
    left_out: int


class FakeCodat:
    """Codat's limit a minute as a sliding window of the last 1,000 arrivals."""

    def __init__(self, latency: float, limit: int = CODAT_REQUESTS_PER_MINUTE) -> None:
        self.latency = latency
        self.limit = limit
        self.arrivals: deque[float] = deque()
        self.sent = 0
        self.refused = 0

    async def handle(self, request: httpx.Request) -> httpx.Response:
        now = clock()
        self.sent += 1
        # A nanosecond's tolerance: virtual time adds floats, and 0.15 + 60 - 60 is not 0.15.
        while self.arrivals and self.arrivals[0] <= now - 60.0 + 1e-9:
            self.arrivals.popleft()
        if len(self.arrivals) >= self.limit:
            self.refused += 1
            wait = max(1, int(self.arrivals[0] + 60.0 - now + 0.999))
            return httpx.Response(429, json=ERROR, headers={"Retry-After": str(wait)})
        self.arrivals.append(now)
        await asyncio.sleep(self.latency)
        return httpx.Response(200, json=CONFIG)


def run(name: str, pacer: Pacer, ids: list[str], latency_ms: int) -> Outcome:
    codat = FakeCodat(latency_ms / 1000)

    async def main() -> tuple[int, int, float]:
        settings = ClientSettings(base_url=URL, deadline=None)
        transport = httpx.MockTransport(codat.handle)
        async with CodatClient("k", settings, transport=transport, pacer=pacer) as client:
            found, warnings = await read_config_ids(client, ids)
        return len(found), len(warnings), clock()

    read, left_out, ended = run_virtual(main)
    return Outcome(name, latency_ms, ended / 60.0, codat.sent, codat.refused, read, left_out)


def pacer_cost(starts: int) -> tuple[float, float]:
    """Microseconds of CPU per `Pacer.start` that does not wait: paced (a slot is free) and
    unpaced."""

    async def measure(pacer: Pacer) -> float:
        began = time.process_time()
        for _ in range(starts):
            await pacer.start(None)
        return (time.process_time() - began) / starts * 1e6

    paced = asyncio.run(measure(Pacer(starts + 1)))
    unpaced = asyncio.run(measure(Pacer(None)))
    return paced, unpaced


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", type=int, default=5_519)
    parser.add_argument("--latency-ms", type=int, nargs="+", default=[20, 150])
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    ids = [str(uuid.UUID(int=n + 1)) for n in range(args.configs)]
    began = time.perf_counter()
    outcomes = []
    for latency in args.latency_ms:
        outcomes += [
            run("before: unpaced, each 429 its own", _OwnWaitOnly(), ids, latency),
            run("shared pause, unpaced", Pacer(None, clock=clock), ids, latency),
            run("paced (default against Codat)", Pacer(1000, clock=clock), ids, latency),
        ]
    took = time.perf_counter() - began
    paced_us, unpaced_us = pacer_cost(100_000)
    floor = max(0, args.configs - CODAT_REQUESTS_PER_MINUTE) / CODAT_REQUESTS_PER_MINUTE
    rows = [
        "| latency | client | minutes (virtual) | requests sent | 429s | configs read | left out |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: |",
        *(
            f"| {o.latency_ms} ms | {o.name} | {o.minutes:.1f} | {o.sent:,} | {o.refused:,} | "
            f"{o.read:,} | "
            f"{o.left_out:,} |"
            for o in outcomes
        ),
    ]
    text = "\n".join(rows)
    print(text)
    print(
        f"floor: {floor:.1f} min ((N - 1,000) / 1,000); pacer CPU per start: paced "
        f"{paced_us:.2f} us, unpaced {unpaced_us:.2f} us; the run took {took:.1f} s",
        flush=True,
    )
    if args.no_record:
        return
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    with RESULTS.open("a", encoding="utf-8") as fh:
        fh.write(
            f"\n## Expense configs against Codat's 1,000 requests a minute ({stamp})\n\n"
            f"`python benchmarks/bench_pacing.py --configs {args.configs} --latency-ms "
            f"{' '.join(map(str, args.latency_ms))}` on {platform.machine()}, "
            f"{os.cpu_count()} CPUs, Python {platform.python_version()}: a full plan's "
            f"{args.configs:,} config reads (`facts.configs.read_config_ids`, 100 in flight, "
            "the real client and its retries) "
            "against a fake Codat answering after the latency and refusing (429, "
            "`Retry-After` until a slot frees) beyond 1,000 requests in any 60 s; virtual "
            "time. Left out: configs the plan could not read (each a warning).\n\n"
            f"{text}\n\nThe floor at 1,000 a minute: {floor:.1f} minutes (the first 1,000 at "
            f"once). The pacer's CPU per request that does not wait: {paced_us:.2f} us paced, "
            f"{unpaced_us:.2f} us unpaced (100,000 starts).\n"
        )


if __name__ == "__main__":
    main()
