"""Benchmark: the client's own cost. Apply 1,000 new customers against a fake Codat whose CPU is
negligible, next to a bare asyncio client sending the same requests in the same run.

- The fake Codat is raw asyncio in its own process: it parses each HTTP/1.1 request minimally
  and answers `POST /companies` and `POST /companies/{id}/connections` (the calls this apply
  makes) with the sandbox's answer shapes, after 20 ms (Codat's latency), on keep-alive
  connections.
- The plan (1,000 creates) is made against an empty in-process sandbox (not timed).
- Timed, in turn, for each round: `apply_plan` at parallelism 10 with the client's default
  transport (the lean one), the same with httpx's own transport (the previous path), and the
  yardstick: a bare asyncio client (raw streams, 10 connections) sending the same 2,000 POSTs in
  the same order (a customer's company, then its connection).
- Client CPU per request: this process's CPU time during the apply / requests sent.

Targets (issue 18): the apply <= 1.15x the bare client, and client CPU <= 1 ms a request.

Run from the project root: `python benchmarks/bench_apply_lean.py [--customers N] [--rounds N]
[--no-record]`.
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
from datetime import UTC, datetime
from email.utils import formatdate
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

RESULTS = ROOT / "benchmarks" / "RESULTS.md"
LATENCY = 0.020
PARALLELISM = 10
TARGET_RATIO = 1.15
TARGET_CPU_MS = 1.0
KEY = "bench-key"


# ---------------------------------------------------------------------- the fake Codat


def now() -> str:
    """Codat's timestamps: a create is newer than the plan's read (else it reads as a replay)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class FakeCodat(asyncio.Protocol):
    """One connection: requests in, the sandbox's answer shapes out after `LATENCY`."""

    def __init__(self, base: str, known: dict[str, Any]) -> None:
        self.base = base
        self.known = known  # path -> what a GET answers (shared by the connections)
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end].decode("latin-1")
            length = 0
            for line in head.split("\r\n")[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            if len(self.buffer) < end + 4 + length:
                return
            body = self.buffer[end + 4 : end + 4 + length]
            self.buffer = self.buffer[end + 4 + length :]
            method, path, _ = head.split(" ", 2)
            status, answer = self.answer(method, path, body)
            payload = json.dumps(answer).encode()
            response = (
                f"HTTP/1.1 {status} OK\r\ndate: {formatdate(usegmt=True)}\r\n"
                "content-type: application/json\r\n"
                f"content-length: {len(payload)}\r\n\r\n"
            ).encode() + payload
            asyncio.get_running_loop().call_later(LATENCY, self.write, response)

    def write(self, response: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(response)

    def answer(self, method: str, path: str, body: bytes) -> tuple[int, Any]:
        parts = path.split("?", 1)[0].strip("/").split("/")
        asked = json.loads(body) if body else {}
        if method == "POST" and parts == ["companies"]:
            company_id = str(uuid.uuid4())
            company = {
                "id": company_id,
                "name": asked["name"],
                "redirect": f"{self.base}/link/companies/{company_id}",
                "created": now(),
                "products": [],
                "tags": asked.get("tags", {}),
                "dataConnections": [],
            }
            if "description" in asked:
                company["description"] = asked["description"]
            self.known[f"/companies/{company_id}"] = company
            return 200, company
        if method == "POST" and len(parts) == 3 and parts[2] == "connections":
            connection_id = str(uuid.uuid4())
            connection = {
                "id": connection_id,
                "integrationId": "8c0cb7c5-1505-5142-9379-24ae7387f171",
                "integrationKey": asked["platformKey"],
                "sourceId": "adfa4e7f-90e2-53af-bc14-19c0e1dbdfee",
                "platformName": "QuickBooks Online",
                "linkUrl": f"{self.base}/link/companies/{parts[1]}/connections/{connection_id}",
                "status": "PendingAuth",
                "created": now(),
                "sourceType": "Accounting",
            }
            self.known[f"/companies/{parts[1]}/connections/{connection_id}"] = connection
            return 200, connection
        if method == "GET" and path in self.known:
            return 200, self.known[path]
        return 404, {"statusCode": 404, "error": f"no fake for {method} {path}"}


async def serve_fake() -> None:
    loop = asyncio.get_running_loop()
    known: dict[str, Any] = {}
    server = await loop.create_server(lambda: FakeCodat(base, known), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    print(base, flush=True)
    await server.serve_forever()


# ---------------------------------------------------------------------- the measured clients


def plan_for(customers: int) -> Any:
    """1,000 creates, planned against an empty in-process sandbox."""
    import httpx

    from reconcile.codat import ClientSettings, CodatClient
    from reconcile.facts.fleet import read_live
    from reconcile.model import Customer, DesiredState
    from reconcile.planner import make_plan
    from reconcile.sandbox.app import create_app
    from reconcile.sandbox.options import SandboxOptions

    state = DesiredState(
        "bench-lean",
        tuple(
            Customer(uid=f"cus-{i:05}", name=f"Customer {i:05}", accounting="qhyg")
            for i in range(customers)
        ),
    )

    async def plan() -> Any:
        with tempfile.TemporaryDirectory() as tmp:
            app = create_app(SandboxOptions.in_process(Path(tmp) / "s.db", {}))
            settings = ClientSettings(base_url="http://127.0.0.1:8765")
            transport = httpx.ASGITransport(app=app)
            async with CodatClient(KEY, settings, transport=transport) as client:
                return make_plan(state, await read_live(client, state))

    return asyncio.run(plan())


async def apply_once(url: str, plan: Any, transport: Any) -> tuple[float, float, int, int]:
    """Wall seconds, CPU seconds, requests, exit code of `apply_plan` against `url`."""
    from reconcile.cli.apply_cmd import applier
    from reconcile.codat import ClientSettings, CodatClient
    from reconcile.render.style import Style

    async with CodatClient(KEY, ClientSettings(base_url=url), transport=transport) as client:
        with open(os.devnull, "w") as sink:
            cpu, wall = time.process_time(), time.perf_counter()
            code = await applier(
                parallelism=PARALLELISM,
                fail_fast=False,
                fmt="text",
                style=Style(),
                out=sink,
                err=sink,
            )(plan, client)
            return (
                time.perf_counter() - wall,
                time.process_time() - cpu,
                client.requests_sent,
                code,
            )


async def bare_once(url: str, customers: int) -> tuple[float, float, int]:
    """The yardstick: the same POSTs from raw asyncio streams, `PARALLELISM` connections."""
    host, port = url.removeprefix("http://").split(":")
    auth = "Basic " + base64.b64encode(KEY.encode()).decode()
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(customers):
        queue.put_nowait(i)
    sent = 0

    async def call(reader: Any, writer: Any, method: str, path: str, body: bytes = b"") -> bytes:
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: {auth}\r\n"
            "Accept: application/json\r\n"
        )
        if body:
            head += (
                "Content-Type: application/json\r\n"
                f"Idempotency-Key: {uuid.uuid4()}\r\nContent-Length: {len(body)}\r\n"
            )
        writer.write(head.encode() + b"\r\n" + body)
        answer = await reader.readuntil(b"\r\n\r\n")
        length = int(answer.lower().split(b"content-length:")[1].split(b"\r\n")[0])
        return bytes(await reader.readexactly(length))

    async def worker() -> None:
        nonlocal sent
        reader, writer = await asyncio.open_connection(host, int(port))
        while not queue.empty():
            i = queue.get_nowait()
            name = json.dumps(
                {
                    "name": f"Customer {i:05}",
                    "tags": {"reconcile.owner": "bench-lean", "reconcile.uid": f"cus-{i:05}"},
                }
            ).encode()
            company = json.loads(await call(reader, writer, "POST", "/companies", name))
            path = f"/companies/{company['id']}/connections"
            await call(reader, writer, "POST", path, json.dumps({"platformKey": "qhyg"}).encode())
            sent += 2
        writer.close()

    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(PARALLELISM)))
    return time.perf_counter() - wall, time.process_time() - cpu, sent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-record", action="store_true")
    parser.add_argument("--serve-fake", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_fake:
        asyncio.run(serve_fake())
        return 0
    import httpx

    plan = plan_for(args.customers)
    fake = subprocess.Popen(
        [sys.executable, __file__, "--serve-fake"], stdout=subprocess.PIPE, text=True
    )
    rows: dict[str, list[tuple[float, float, int]]] = {"lean": [], "httpx": [], "bare": []}
    try:
        assert fake.stdout is not None
        url = fake.stdout.readline().strip()
        for n in range(args.rounds):
            for name in ("lean", "httpx"):
                transport = None if name == "lean" else httpx.AsyncHTTPTransport()
                wall, cpu, requests, code = asyncio.run(apply_once(url, plan, transport))
                if code != 0:
                    raise SystemExit(f"{name} apply exited {code}")
                rows[name].append((wall, cpu, requests))
            rows["bare"].append(asyncio.run(bare_once(url, args.customers)))
            shown = ", ".join(f"{k} {v[-1][0]:.2f} s" for k, v in rows.items())
            print(f"round {n + 1}: {shown}", flush=True)
    finally:
        fake.terminate()
        fake.wait()
    ideal = 2 * args.customers * LATENCY / PARALLELISM

    def ratio(name: str) -> float:
        return statistics.median(a[0] / b[0] for a, b in zip(rows[name], rows["bare"], strict=True))

    def cpu_ms(name: str) -> float:
        return statistics.median(r[1] / r[2] * 1000 for r in rows[name])

    lines = [
        "| client | wall (median) | vs bare (pairwise median) | vs ideal | CPU / request |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name in ("lean", "httpx", "bare"):
        wall = statistics.median(r[0] for r in rows[name])
        lines.append(
            f"| {name} | {wall:.2f} s | {ratio(name):.2f}x | {wall / ideal:.2f}x "
            f"| {cpu_ms(name):.2f} ms |"
        )
    verdict_ratio = "met" if ratio("lean") <= TARGET_RATIO else "MISSED"
    verdict_cpu = "met" if cpu_ms("lean") <= TARGET_CPU_MS else "MISSED"
    summary = (
        f"Lean apply {ratio('lean'):.2f}x the bare client (target <= {TARGET_RATIO}x: "
        f"{verdict_ratio}); client CPU {cpu_ms('lean'):.2f} ms a request (target <= "
        f"{TARGET_CPU_MS} ms: {verdict_cpu}). Load average {os.getloadavg()[0]:.1f}."
    )
    print("\n".join(lines))
    print(summary)
    if not args.no_record:
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        with RESULTS.open("a", encoding="utf-8") as fh:
            fh.write(
                f"\n## Apply {args.customers:,} creates against a fake Codat: the client's cost "
                f"({stamp})\n\n`python benchmarks/bench_apply_lean.py` on {platform.machine()}, "
                f"{os.cpu_count()} CPUs, Python {platform.python_version()}: a raw-asyncio fake "
                f"Codat (its own process, {LATENCY * 1000:.0f} ms per answer), `apply_plan` at "
                f"parallelism {PARALLELISM}, {args.rounds} rounds; each round runs the three "
                "clients in turn. Ideal = requests x latency / parallelism "
                f"= {ideal:.2f} s.\n\n" + "\n".join(lines) + f"\n\n{summary}\n"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
