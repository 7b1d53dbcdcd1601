"""`sandbox serve` writes each answer to the socket once (reconcile/sandbox/serving.py).

Served: the server process's write system calls are counted from /proc while it answers GETs
that write nothing to SQLite (no daily quota to count), so each answer is one write; uvicorn's
own protocol makes two (head, then body), which is the control's count. In process: what the
gathering transport hands the real one, turn by turn, and that closing or aborting first writes
what it gathered.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconcile.sandbox.serving import GatheringTransport
from tests.conftest import AUTH_HEADERS
from tests.support.processes import started
from tests.support.sandbox_server import LISTENING, PROJECT_ROOT, sandbox_command

ANSWERS = 40


def write_calls(pid: int) -> int:
    """How many write system calls process `pid` has made (Linux task I/O accounting)."""
    for line in Path(f"/proc/{pid}/io").read_text().splitlines():
        if line.startswith("syscw:"):
            return int(line.split(":", 1)[1])
    raise AssertionError("no syscw in /proc/PID/io")


def test_each_served_answer_is_one_write(tmp_path: Path) -> None:
    db = tmp_path / "serving.db"
    command = sandbox_command("serve", "--port", "0", "--db", str(db), "--daily-quota", "none")
    env = dict(os.environ)
    with (
        started(command, [LISTENING], name="sandbox", env=env, cwd=PROJECT_ROOT) as server,
        httpx.Client(base_url=server.found[0], headers=AUTH_HEADERS, timeout=30) as http,
    ):
        company = http.post("/companies", json={"name": "One Write Ltd"}).json()
        path = f"/companies/{company['id']}"
        assert http.get(path).status_code == 200  # the connection is open and warm
        before = write_calls(server.process.pid)
        answers = [http.get(path) for _ in range(ANSWERS)]
        writes = write_calls(server.process.pid) - before
    assert all(answer.status_code == 200 and answer.json() == company for answer in answers)
    # One write an answer; uvicorn's own protocol (the control) makes 2 * ANSWERS.
    assert ANSWERS <= writes < 1.5 * ANSWERS, writes


class Recorder:
    """A stand-in for the socket's transport: what was written, and when it was closed."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.ended: list[tuple[str, int]] = []  # (close or abort, writes made before it)

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def is_closing(self) -> bool:
        return bool(self.ended)

    def close(self) -> None:
        self.ended.append(("close", len(self.writes)))

    def abort(self) -> None:
        self.ended.append(("abort", len(self.writes)))

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return ("127.0.0.1", 8765) if name == "sockname" else default


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.anyio
async def test_a_head_and_body_sent_in_one_turn_leave_together() -> None:
    real = Recorder()
    transport = GatheringTransport(real, asyncio.get_running_loop())  # type: ignore[arg-type]
    transport.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n")
    transport.write(memoryview(b"{}"))
    assert real.writes == []  # nothing leaves while the app runs
    await asyncio.sleep(0)
    assert real.writes == [b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}"]
    assert transport.get_extra_info("sockname") == ("127.0.0.1", 8765)  # the rest is the real one


@pytest.mark.anyio
async def test_control_parts_sent_in_different_turns_leave_apart() -> None:
    real = Recorder()
    transport = GatheringTransport(real, asyncio.get_running_loop())  # type: ignore[arg-type]
    transport.write(b"part one")
    await asyncio.sleep(0)
    transport.write(b"part two")
    await asyncio.sleep(0)
    assert real.writes == [b"part one", b"part two"]


@pytest.mark.anyio
@pytest.mark.parametrize("end", ["close", "abort"])
async def test_closing_writes_what_was_gathered_first(end: str) -> None:
    real = Recorder()
    transport = GatheringTransport(real, asyncio.get_running_loop())  # type: ignore[arg-type]
    transport.write(b"HTTP/1.1 413 Payload Too Large\r\n\r\n")
    getattr(transport, end)()
    assert real.writes == [b"HTTP/1.1 413 Payload Too Large\r\n\r\n"]
    assert real.ended == [(end, 1)]
    transport.write(b"too late")  # the connection is gone: nothing more reaches it
    await asyncio.sleep(0)
    assert real.writes == [b"HTTP/1.1 413 Payload Too Large\r\n\r\n"]
