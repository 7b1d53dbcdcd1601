"""A fake GitLab API on loopback, answering from a table of routes and recording every request,
and a runner for the Python blocks of the kit's `.gitlab-ci.yml` jobs: the note-editing and
plan-finding code runs as CI runs it (a subprocess, `python -P -`), against this server."""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml

from tests.support.cli import run_python


@dataclass
class FakeGitLab:
    """`routes`: "METHOD /path?query" (query as sent) -> JSON-able body, or bytes, or None
    (404). `requests`: (method, path, JSON body or None) in the order they came."""

    routes: dict[str, Any]
    requests: list[tuple[str, str, Any]] = field(default_factory=list)
    url: str = ""


@contextmanager
def serve(fake: FakeGitLab) -> Iterator[FakeGitLab]:
    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            size = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(size)) if size else None
            path = self.path.removeprefix("/api/v4")
            fake.requests.append((self.command, path, body))
            found = fake.routes.get(f"{self.command} {path}")
            if found is None and self.command in ("PUT", "POST"):
                found = {"ok": True}
            if found is None:
                self.send_response(404)
                self.end_headers()
                return
            data = found if isinstance(found, bytes) else json.dumps(found).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_PUT = do_POST = _answer

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}/api/v4"
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()


def python_blocks(ci_file: Path, job: str) -> list[str]:
    """The `python3 -P - <<'EOF' ... EOF` programs of a job's script, in order."""
    doc = yaml.safe_load(ci_file.read_text())
    blocks = []
    for item in doc[job]["script"]:
        lines = item.splitlines()
        for i, line in enumerate(lines):
            if line.strip() == "python3 -P - <<'EOF'":
                end = next(j for j in range(i + 1, len(lines)) if lines[j].strip() == "EOF")
                blocks.append(textwrap.dedent("\n".join(lines[i + 1 : end])))
    return blocks


def run_block(
    program: str, fake: FakeGitLab, cwd: Path, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    full = {
        "PATH": os.environ["PATH"],
        "CI_API_V4_URL": fake.url,
        "CI_PROJECT_ID": "5",
        "CI_DEFAULT_BRANCH": "main",
        "RECONCILE_GITLAB_TOKEN": "glpat-test",
        **env,
    }
    return run_python("-P", "-", cwd=cwd, env=full, stdin=program)
