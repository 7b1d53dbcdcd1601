"""Benchmark: how many requests a second the served sandbox answers at 10 in flight.

A real `reconcile sandbox serve` subprocess on loopback (its default options: rate limits with
the daily quota, idempotency, the request path a user's CI takes). The client is deliberately
cheap, so that it is not what is measured: raw asyncio streams, 10 keep-alive connections, each
sending an apply's calls for one customer after another: a keyed `POST /companies`, a keyed
`POST /companies/{id}/connections` and a `GET /companies/{id}`. Every answer is checked (status).

Reported: requests a second (best and median of N rounds), and the server's CPU per request
(from /proc, the server process only). Target (issue 18): >= 800 requests a second.

Run from the project root: `python benchmarks/bench_sandbox_throughput.py [--requests N]
[--in-flight N] [--rounds N] [--no-record]`.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.sandbox_server import serve_sandbox  # noqa: E402

RESULTS = ROOT / "benchmarks" / "RESULTS.md"
AUTH = "Basic " + base64.b64encode(b"bench-key").decode()
TARGET = 800.0
# The quota is counted (its writes are part of the cost) but set high enough never to refuse.
SERVER_ARGS = ("--daily-quota", "100000000")


class Connection:
    """One keep-alive HTTP/1.1 connection: write a request, read one Content-Length answer."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str):
        self.reader, self.writer, self.host = reader, writer, host

    async def call(self, method: str, path: str, body: bytes = b"", key: str = "") -> bytes:
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\nAuthorization: {AUTH}\r\n"
            f"Content-Length: {len(body)}\r\n"
        )
        if body:
            head += "Content-Type: application/json\r\n"
        if key:
            head += f"Idempotency-Key: {key}\r\n"
        self.writer.write(head.encode() + b"\r\n" + body)
        status_and_headers = await self.reader.readuntil(b"\r\n\r\n")
        status = int(status_and_headers[9:12])
        length = 0
        for line in status_and_headers.split(b"\r\n"):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        answer = await self.reader.readexactly(length)
        if status >= 300:
            raise RuntimeError(f"{method} {path}: {status} {answer[:200]!r}")
        return answer


async def worker(url: str, customers: int, prefix: str) -> int:
    parts = urlsplit(url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    conn = Connection(reader, writer, parts.netloc)
    sent = 0
    try:
        for i in range(customers):
            body = json.dumps({"name": f"Bench {prefix} {i}"}).encode()
            company = json.loads(await conn.call("POST", "/companies", body, key=str(uuid.uuid4())))
            path = f"/companies/{company['id']}"
            connection = json.dumps({"platformKey": "gbol"}).encode()
            await conn.call("POST", f"{path}/connections", connection, key=str(uuid.uuid4()))
            await conn.call("GET", path)
            sent += 3
    finally:
        writer.close()
    return sent


async def one_round(url: str, requests: int, in_flight: int, label: str) -> tuple[int, float]:
    per_worker = max(1, requests // (3 * in_flight))
    started = time.perf_counter()
    sent = await asyncio.gather(
        *(worker(url, per_worker, f"{label}-{w}") for w in range(in_flight))
    )
    return sum(sent), time.perf_counter() - started


def process_cpu(pid: int) -> float:
    """User + system seconds of process `pid` so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server_pid(port: int) -> int | None:
    """The pid listening on `port` (the served sandbox), found through /proc/net/tcp."""
    inode = None
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        cols = line.split()
        if int(cols[1].split(":")[1], 16) == port and cols[3] == "0A":
            inode = cols[9]
    if inode is None:
        return None
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            for fd in (proc / "fd").iterdir():
                if os.readlink(fd) == f"socket:[{inode}]":
                    return int(proc.name)
        except OSError:
            continue
    return None


@contextmanager
def served(url: str | None, tmp: Path) -> Iterator[str]:
    if url:
        yield url
        return
    with serve_sandbox(tmp / "s.db", *SERVER_ARGS) as served_url:
        yield served_url


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000, help="requests a round")
    parser.add_argument("--in-flight", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-record", action="store_true")
    parser.add_argument("--url", help="measure a sandbox already served there (e.g. profiled)")
    args = parser.parse_args()
    rates: list[float] = []
    cpu_per_request: list[float] = []
    with tempfile.TemporaryDirectory() as tmp, served(args.url, Path(tmp)) as url:
        port = urlsplit(url).port
        pid = server_pid(port) if port else None
        asyncio.run(one_round(url, 300, args.in_flight, "warm"))
        for n in range(args.rounds):
            cpu_before = process_cpu(pid) if pid else 0.0
            sent, seconds = asyncio.run(one_round(url, args.requests, args.in_flight, f"r{n}"))
            if pid:
                cpu_per_request.append((process_cpu(pid) - cpu_before) / sent * 1000)
            rates.append(sent / seconds)
            print(f"round {n + 1}: {sent} requests in {seconds:.2f} s = {sent / seconds:.0f}/s")
    best, median = max(rates), statistics.median(rates)
    cpu = f"{statistics.median(cpu_per_request):.2f} ms" if cpu_per_request else "n/a"
    verdict = "met" if median >= TARGET else "MISSED"
    print(f"requests/s best {best:.0f}, median {median:.0f} (target {TARGET:.0f}: {verdict})")
    print(f"server CPU per request (median): {cpu}; load average {os.getloadavg()[0]:.1f}")
    if not args.no_record:
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        with RESULTS.open("a", encoding="utf-8") as fh:
            fh.write(
                f"\n## Sandbox: requests a second at {args.in_flight} in flight ({stamp})\n\n"
                f"`python benchmarks/bench_sandbox_throughput.py` on {platform.machine()}, "
                f"{os.cpu_count()} CPUs, Python {platform.python_version()}, load average "
                f"{os.getloadavg()[0]:.1f}: a served sandbox (a counted daily quota, "
                "idempotency), a raw-asyncio client sending an apply's calls per customer (keyed "
                "POST company, keyed POST connection, GET company), every status checked.\n\n"
                "| rounds | requests a round | best | median | server CPU / request | target |\n"
                "| --- | --- | --- | --- | --- | --- |\n"
                f"| {args.rounds} | {args.requests} | {best:.0f}/s | {median:.0f}/s | {cpu} "
                f"| >= {TARGET:.0f}/s: {verdict} |\n"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
