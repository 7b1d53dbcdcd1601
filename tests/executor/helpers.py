"""Shared by the executor tests: desired states, clients, and a sandbox behind a script."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from reconcile.codat import ClientSettings, CodatClient
from reconcile.model import Customer, DesiredState
from tests.support.cli import clean_env, codat_env, reconcile

OWNER = "exec-test"
IN_PROCESS_URL = "http://127.0.0.1:8765"

# What a script says to do with one request: "pass" it to the sandbox, "lost" (run it, then
# drop the connection), a status to answer with Codat's error body without running it, or a
# (status, body) pair to answer with that body without running it.
Answer = str | int | tuple[int, Any]
Script = Callable[[str, str, int, str | None], Answer]

APPLY_KEY = "apply-test-key"


def desired(n: int, owner: str = OWNER, **kw: Any) -> DesiredState:
    customers = tuple(
        Customer(uid=f"cus-{i:03}", name=f"Customer {i}", **{"accounting": "gbol", **kw})
        for i in range(n)
    )
    return DesiredState(owner, customers)


def client(url: str, **settings: Any) -> CodatClient:
    defaults: dict[str, Any] = {"backoff_base": 0.01, "backoff_cap": 0.02, "max_attempts": 15}
    return CodatClient("key", ClientSettings(base_url=url, **{**defaults, **settings}))


class Scripted:
    """An ASGI wrapper: `script(method, path, n, key)` decides the n-th request (0-based) to
    that method and path, sent under Idempotency-Key `key`. `seen` lists every request."""

    def __init__(self, app: Any, script: Script) -> None:
        self.app, self.script = app, script
        self.counts: dict[tuple[str, str], int] = {}
        self.seen: list[tuple[str, str]] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        key = (scope["method"], scope["path"])
        self.seen.append(key)
        n = self.counts.get(key, 0)
        self.counts[key] = n + 1
        headers = dict(scope["headers"])
        idem = headers.get(b"idempotency-key", b"").decode() or None
        what = self.script(*key, n, idem)
        if what == "pass":
            await self.app(scope, receive, send)
            return
        if what == "lost":

            async def swallow(message: object) -> None:
                return None

            await self.app(scope, receive, swallow)
            raise httpx.RemoteProtocolError("connection closed without a response")
        if isinstance(what, tuple):
            status, body = what
        else:
            status = int(what)
            body = {"statusCode": status, "service": "test", "error": "scripted"}
            body["correlationId"] = "corr-scripted"
        raw = json.dumps(body).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": raw})


def in_process(tmp_path: Path, script: Script, **settings: Any) -> tuple[CodatClient, Scripted]:
    """A client for an in-process sandbox (state in tmp_path/s.db) behind `script`."""
    from reconcile.sandbox.app import create_app
    from reconcile.sandbox.options import SandboxOptions

    app = Scripted(create_app(SandboxOptions(db_path=tmp_path / "s.db")), script)
    defaults: dict[str, Any] = {"backoff_base": 0, "max_attempts": 3}
    codat = CodatClient(
        "k",
        ClientSettings(base_url=IN_PROCESS_URL, **{**defaults, **settings}),
        transport=httpx.ASGITransport(app=app),
    )
    return codat, app


def passing(method: str, path: str, n: int, key: str | None) -> Answer:
    return "pass"


# ---------------------------------------------------------------------- the real command

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def write_customers(path: Path, n: int, owner: str = "apply-test", **extra: str) -> Path:
    """A desired file of `n` customers `cus-0001`... with an accounting platform each."""
    lines = ["version: 1", f"owner: {owner}", "customers:"]
    for i in range(1, n + 1):
        lines += [f"  - uid: cus-{i:04}", f'    name: "Customer {i}"', "    accounting: qbo"]
        lines += [f"    {k}: {v}" for k, v in extra.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


def command_env(url: str | None = None, **more: str) -> dict[str, str]:
    """The environment of a `reconcile` subprocess: no colour, Codat at `url` (if given)."""
    return clean_env({**codat_env(url, APPLY_KEY if url is not None else None), **more})


def companies_by_uid(db: Path) -> dict[str, list[dict[str, Any]]]:
    """Every company in the sandbox's file, by its reconcile.uid tag."""
    from reconcile.sandbox.store import Store

    store = Store(db)
    try:
        found: dict[str, list[dict[str, Any]]] = {}
        for company in store.list_companies(page=1, page_size=100_000)[0]:
            uid = (company.get("tags") or {}).get("reconcile.uid", "")
            found.setdefault(uid, []).append(company)
        return found
    finally:
        store.close()


def run_reconcile(url: str, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """`reconcile ARGS...` against Codat at `url`, to completion, output captured."""
    return reconcile(*args, env=codat_env(url, APPLY_KEY), cwd=PROJECT_ROOT, timeout=timeout)
