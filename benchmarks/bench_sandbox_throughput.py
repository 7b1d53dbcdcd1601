"""Benchmark: how many requests a second the served sandbox answers at 10 in flight.

A real `reconcile sandbox serve` subprocess on loopback (its default options: rate limits with
the daily quota, idempotency, the request path a user's CI takes). The client is deliberately
cheap, so that it is not what is measured: raw asyncio streams, 10 keep-alive connections, each
sending an apply's calls for one customer after another: a keyed `POST /companies`, a keyed
`POST /companies/{id}/connections` and a `GET /companies/{id}`. Every answer is checked (status).

Reported per round: requests a second, the server's CPU per request (from /proc, the server
process only: it depends far less on the machine's load than requests a second do), this
client's CPU per request, and the load average when the round started. Target (issue 27):
>= 800 requests a second with 10 in flight, which on 2 cores needs well under 1 ms of CPU a
request, server and client together.

`--against DIR` serves a second sandbox from another checkout of the project (e.g. a worktree of
main; with its own `.venv` when it has one) and alternates the rounds between the two servers
(each on its own fresh file; which goes first alternates too), so both see the same load: the
figures are side by side from one run.

Run from the project root: `python benchmarks/bench_sandbox_throughput.py [--requests N]
[--in-flight N] [--rounds N] [--against DIR] [--url URL] [--no-record]`.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.processes import started  # noqa: E402
from tests.support.sandbox_server import LISTENING  # noqa: E402

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
    started_at = time.perf_counter()
    sent = await asyncio.gather(
        *(worker(url, per_worker, f"{label}-{w}") for w in range(in_flight))
    )
    return sum(sent), time.perf_counter() - started_at


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


def checkout_label(checkout: Path) -> str:
    """`branch@commit` of a git checkout (what a reader compares against)."""

    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", "-C", str(checkout), *args], capture_output=True, text=True, check=False
        )
        return done.stdout.strip() or "?"

    return f"{git('rev-parse', '--abbrev-ref', 'HEAD')}@{git('rev-parse', '--short', 'HEAD')}"


@contextmanager
def serve_checkout(checkout: Path, db_path: Path) -> Iterator[str]:
    """`python -m reconcile sandbox serve` from `checkout` (its own venv when it has one)."""
    venv_python = checkout / ".venv" / "bin" / "python"
    python = str(venv_python) if venv_python.exists() else sys.executable
    command = [python, "-m", "reconcile", "sandbox", "serve", "--port", "0"]
    command += ["--db", str(db_path), *SERVER_ARGS]
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    with started(command, [LISTENING], name="sandbox", env=env, cwd=checkout) as server:
        yield server.found[0]


@dataclass
class Side:
    """One server measured: its label, URL, pid and each round's figures."""

    label: str
    url: str
    pid: int | None
    rates: list[float] = field(default_factory=list)
    server_ms: list[float] = field(default_factory=list)
    client_ms: list[float] = field(default_factory=list)

    def measure(self, requests: int, in_flight: int, label: str) -> str:
        server_before = process_cpu(self.pid) if self.pid else 0.0
        client_before = time.process_time()
        sent, seconds = asyncio.run(one_round(self.url, requests, in_flight, label))
        self.client_ms.append((time.process_time() - client_before) / sent * 1000)
        if self.pid:
            self.server_ms.append((process_cpu(self.pid) - server_before) / sent * 1000)
        self.rates.append(sent / seconds)
        server = f"{self.server_ms[-1]:.3f} ms" if self.pid else "n/a"
        return (
            f"{self.label}: {sent} requests in {seconds:.2f} s = {sent / seconds:.0f}/s, "
            f"server CPU {server}/request, client CPU {self.client_ms[-1]:.3f} ms/request"
        )

    def cell(self, index: int) -> str:
        server = f"{self.server_ms[index]:.3f} ms" if self.server_ms else "n/a"
        return f"{self.rates[index]:.0f}/s | {server} | {self.client_ms[index]:.3f} ms"

    def summary(self) -> str:
        server = f"{statistics.median(self.server_ms):.3f} ms" if self.server_ms else "n/a"
        return (
            f"{statistics.median(self.rates):.0f}/s (best {max(self.rates):.0f}) | {server} "
            f"| {statistics.median(self.client_ms):.3f} ms"
        )

    def verdict(self) -> str:
        return "met" if statistics.median(self.rates) >= TARGET else "MISSED"


def serve_sides(stack: ExitStack, args: argparse.Namespace, tmp: Path) -> list[Side]:
    """The server(s) to measure: `--url`, else this tree's, and `--against`'s if given."""
    if args.url:
        urls = [("served at --url", args.url)]
    else:
        urls = [(checkout_label(ROOT), stack.enter_context(serve_checkout(ROOT, tmp / "a.db")))]
        if args.against:
            other = Path(args.against).resolve()
            served = stack.enter_context(serve_checkout(other, tmp / "b.db"))
            urls.append((checkout_label(other), served))
    sides = []
    for label, url in urls:
        port = urlsplit(url).port
        sides.append(Side(label, url, server_pid(port) if port else None))
    return sides


def record(args: argparse.Namespace, sides: list[Side], loads: list[float]) -> None:
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    command = "python benchmarks/bench_sandbox_throughput.py"
    if args.against:
        command += " --against CHECKOUT"
    head = " | ".join(
        f"{side.label}: req/s | server CPU / request | client CPU / request" for side in sides
    )
    lines = [
        f"\n## Sandbox: requests a second at {args.in_flight} in flight ({stamp})\n",
        f"`{command}` on {platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}, load average {min(loads):.1f}-{max(loads):.1f} over the "
        f"rounds: a served sandbox per checkout (a counted daily quota, idempotency), a "
        "raw-asyncio client sending an apply's calls per customer (keyed POST company, keyed POST "
        f"connection, GET company), {args.requests} requests a round, every status checked; the "
        "servers' rounds alternate. CPU per request from /proc (server process) and "
        "`time.process_time` (this client).\n",
        f"| round | load | {head} |",
        "| --- | --- |" + " ---: | ---: | ---: |" * len(sides),
    ]
    for index, load in enumerate(loads):
        cells = " | ".join(side.cell(index) for side in sides)
        lines.append(f"| {index + 1} | {load:.1f} | {cells} |")
    lines.append(f"| median | | {' | '.join(side.summary() for side in sides)} |")
    verdicts = ", ".join(f"{side.label} {side.verdict()}" for side in sides)
    lines.append(f"\nTarget >= {TARGET:.0f}/s (median of the rounds): {verdicts}.\n")
    with RESULTS.open("a", encoding="utf-8") as fh:
        fh.write("\n".join(lines))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000, help="requests a round")
    parser.add_argument("--in-flight", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--against", help="another checkout of the project, measured alongside")
    parser.add_argument("--url", help="measure a sandbox already served there (e.g. profiled)")
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    loads: list[float] = []
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        sides = serve_sides(stack, args, Path(tmp))
        for side in sides:
            asyncio.run(one_round(side.url, 300, args.in_flight, "warm"))
        for n in range(args.rounds):
            loads.append(os.getloadavg()[0])
            print(f"round {n + 1} (load average {loads[-1]:.1f})")
            for side in sides if n % 2 == 0 else sides[::-1]:
                print("  " + side.measure(args.requests, args.in_flight, f"r{n}"))
    for side in sides:
        print(f"{side.label}: median req/s (best) | server CPU/request | client CPU/request:")
        print(f"  {side.summary()}  (target {TARGET:.0f}/s: {side.verdict()})")
    print(f"load average {min(loads):.1f}-{max(loads):.1f} over the rounds")
    if not args.no_record:
        record(args, sides, loads)
    return 0


if __name__ == "__main__":
    sys.exit(main())
