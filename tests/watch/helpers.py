"""A served sandbox with a request log, `reconcile` CLI runs, and `reconcile watch` as a real
subprocess on a free loopback port, with signed (or forged) webhook deliveries."""

from __future__ import annotations

import base64
import json
import os
import re
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from standardwebhooks.webhooks import Webhook

from reconcile.sandbox.layers.requestlog import read_log
from tests.conftest import AUTH_HEADERS, TEST_API_KEY
from tests.support.cli import clean_env, reconcile, reconcile_argv
from tests.support.processes import Started, started
from tests.support.sandbox_server import PROJECT_ROOT, serve_sandbox

OWNER = "watch-test"
WATCHED = f"""\
version: 1
owner: {OWNER}
customers:
  - uid: w-1
    name: Watched One
    accounting: quickbooks-online
    expenses: true
    expenseConfig: {{bankAccount: "89", supplier: "124", customer: "140"}}
  - uid: w-2
    name: Watched Two
    accounting: xero
    expenses: true
"""
LISTENING = re.compile(r"watch listening on (http://\S+)")
STATUS_LISTENING = re.compile(r"status and metrics on (http://\S+)")
INTERNAL = ("/status", "/metrics")
WRITES = ("POST", "PUT", "PATCH", "DELETE")


def new_secret() -> str:
    return "whsec_" + base64.b64encode(os.urandom(24)).decode()


@dataclass
class Codat:
    """A served sandbox of our own: its URL, SQLite file and request log."""

    url: str
    db: Path
    log: Path

    def env(self) -> dict[str, str]:
        return {"CODAT_BASE_URL": self.url, "CODAT_API_KEY": TEST_API_KEY}

    def requests(self) -> list[dict[str, Any]]:
        return read_log(self.log)

    def writes_since(self, mark: int) -> list[dict[str, Any]]:
        return [r for r in self.requests()[mark:] if r["method"] in WRITES]

    def company_id(self, uid: str) -> str:
        with httpx.Client(base_url=self.url, headers=AUTH_HEADERS, timeout=30) as client:
            answer = client.get("/companies", params={"tags": f"reconcile.uid={uid}"})
            answer.raise_for_status()
            (company,) = answer.json()["results"]
            return str(company["id"])

    def company(self, uid: str) -> dict[str, Any]:
        with httpx.Client(base_url=self.url, headers=AUTH_HEADERS, timeout=30) as client:
            answer = client.get(f"/companies/{self.company_id(uid)}")
            answer.raise_for_status()
            body: dict[str, Any] = answer.json()
            return body


@contextmanager
def served_codat(tmp_path: Path, *args: str) -> Iterator[Codat]:
    db, log = tmp_path / "sandbox.db", tmp_path / "requests.jsonl"
    with serve_sandbox(db, "--request-log", str(log), *args) as url:
        yield Codat(url, db, log)


def write_file(path: Path, text: str = WATCHED) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def applied(codat: Codat, directory: Path) -> Path:
    """The watched file in `directory`, applied to `codat`."""
    desired = write_file(directory / "customers.yaml")
    result = reconcile("apply", str(desired), "--auto-approve", env=codat.env())
    assert result.returncode == 0, result.stdout + result.stderr
    return desired


def applied_in_process(directory: Path, authorizing: str = "w-1") -> Path:
    """The watched file in `directory` applied in process to its sandbox.db (no quota there),
    `authorizing`'s customer then authorizing (the pass has more to read and write)."""
    db = directory / "sandbox.db"
    desired = write_file(directory / "customers.yaml")
    result = reconcile("apply", str(desired), "--sandbox-db", str(db), "--auto-approve")
    assert result.returncode == 0, result.stderr
    authorized = reconcile("sandbox", "authorize", "--db", str(db), "--uid", authorizing)
    assert authorized.returncode == 0, authorized.stderr
    return desired


@dataclass
class Watch:
    """A running `reconcile watch`: its process and log, its public and internal base URLs and
    its secret."""

    server: Started
    url: str
    secret: str
    status_url: str

    @property
    def process(self) -> subprocess.Popen[str]:
        return self.server.process

    @property
    def lines(self) -> list[str]:
        """The log lines read so far."""
        return self.server.lines

    def get(self, path: str) -> httpx.Response:
        """GET `path` where the watch serves it: /status and /metrics on the internal listener."""
        base = self.status_url if path.split("?")[0] in INTERNAL else self.url
        return httpx.get(base + path, timeout=10)

    def status(self) -> dict[str, Any]:
        body: dict[str, Any] = self.get("/status").json()
        return body

    def deliver(
        self,
        event: dict[str, Any],
        *,
        secret: str | None = None,
        message_id: str | None = None,
        timestamp: datetime | None = None,
        names: str = "webhook",
        signed: bool = True,
    ) -> httpx.Response:
        body = json.dumps(event)
        message_id = message_id or f"msg_{uuid.uuid4().hex}"
        timestamp = timestamp or datetime.now(UTC)
        headers = {"content-type": "application/json"}
        if signed:
            signature = Webhook(secret or self.secret).sign(message_id, timestamp, body)
            headers |= {
                f"{names}-id": message_id,
                f"{names}-timestamp": str(int(timestamp.timestamp())),
                f"{names}-signature": signature,
            }
        return httpx.post(self.url + "/webhooks/codat", content=body, headers=headers, timeout=10)

    def wait_for(
        self, what: str, check: Callable[[dict[str, Any]], bool], timeout: float = 30
    ) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"watch exited ({self.process.returncode}): {self.log()}")
            if check(self.status()):
                return
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what}: {self.status()}\n{self.log()}")

    def passes_after(self, count: int) -> Callable[[dict[str, Any]], bool]:
        return lambda status: status["passes"] > count and status["queued_companies"] == 0

    def log(self) -> str:
        """The log read so far: a line said just before /status changed may not be in it yet
        (`said` waits for one); after `stop` it is whole."""
        return "".join(self.lines)

    def said(self, wanted: str | re.Pattern[str], timeout: float = 10) -> str:
        """The first log line holding `wanted`, once the watch has written it."""
        return self.server.line_with(wanted, timeout)

    def stop(self, signum: int = signal.SIGTERM, timeout: float = 30) -> int:
        """Signal the watch and wait for its exit and for the last of its log."""
        self.process.send_signal(signum)
        code = self.process.wait(timeout=timeout)
        self.server.whole_log(timeout)
        return code


@contextmanager
def running_watch(
    codat: Codat,
    *args: str,
    secret: str | None = None,
    env: dict[str, str] | None = None,
    cwd: Path = PROJECT_ROOT,
    state_dir: Path | None = None,
    preexec: Callable[[], None] | None = None,
) -> Iterator[Watch]:
    """`reconcile watch` on free loopback ports; its state beside the sandbox's files (or in
    `state_dir`; with `cwd` elsewhere, the default `.reconcile` there)."""
    secret = secret or new_secret()
    if state_dir is None and cwd == PROJECT_ROOT:
        state_dir = codat.db.parent / ".reconcile"
    state = ["--state-dir", str(state_dir)] if state_dir is not None else []
    full_env = clean_env({"CODAT_WEBHOOK_SECRET": secret, **codat.env(), **(env or {})})
    command = [
        *reconcile_argv("watch", "--listen", "127.0.0.1:0"),
        *("--status-listen", "127.0.0.1:0", *state, *args),
    ]
    with started(
        command,
        [LISTENING, STATUS_LISTENING],
        name="watch",
        env=full_env,
        cwd=cwd,
        preexec=preexec,
        stop=kill,
    ) as server:
        url, status_url = server.found
        yield Watch(server, url, secret, status_url)


def kill(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.kill()
        process.wait()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def connection_event(company_id: str, event_type: str = "connection.connected") -> dict[str, Any]:
    """Codat's envelope; the status it carries is deliberately wrong (never trusted)."""
    return {
        "id": str(uuid.uuid4()),
        "eventType": event_type,
        "generatedDate": datetime.now(UTC).isoformat(),
        "payload": {
            "referenceCompany": {"id": company_id, "name": "whatever"},
            "connection": {"id": str(uuid.uuid4()), "status": "Deauthorized"},
        },
    }
