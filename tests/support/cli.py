"""`reconcile` as a real subprocess: the one helper every CLI test runs the command through."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from tests.conftest import TEST_API_KEY
from tests.support.sandbox_server import PROJECT_ROOT

# What a caller's shell may hold that would change a run: Codat's settings, a signing key, a
# pace or a sandbox's limit a minute, proxies (every server a test talks to is on loopback).
SCRUBBED = (
    "CODAT_",
    "RECONCILE_SIGNING",
    "RECONCILE_REQUESTS_PER_MINUTE",
    "RECONCILE_SANDBOX_MINUTE_LIMIT",
)
TIMEOUT_SECONDS = 300.0


def reconcile_argv(*args: str) -> list[str]:
    """The argv of `reconcile ARGS` in a fresh interpreter of this venv."""
    return [sys.executable, "-m", "reconcile", *args]


def clean_env(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment without Codat settings, signing keys or proxies, with
    NO_COLOR=1, then `env`."""
    kept = {k: v for k, v in os.environ.items() if not k.startswith(SCRUBBED) and "PROXY" not in k}
    return {**kept, "NO_COLOR": "1", **(env or {})}


def codat_env(url: str | None, key: str | None = TEST_API_KEY) -> dict[str, str]:
    """CODAT_BASE_URL and CODAT_API_KEY (each left unset when None)."""
    env = {}
    if url is not None:
        env["CODAT_BASE_URL"] = url
    if key is not None:
        env["CODAT_API_KEY"] = key
    return env


def reconcile(
    *args: str,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    stdin: str | None = None,
    timeout: float = TIMEOUT_SECONDS,
    check: bool = False,
) -> subprocess.CompletedProcess[str]:
    """`reconcile ARGS` to completion, output captured, in `clean_env(env)` (`check`: raise on
    a failure)."""
    return subprocess.run(
        reconcile_argv(*args),
        capture_output=True,
        text=True,
        cwd=cwd,
        input=stdin,
        env=clean_env(env),
        timeout=timeout,
        check=check,
    )


def run_sandbox(
    *args: str, timeout: float = 60, check: bool = False
) -> subprocess.CompletedProcess[str]:
    """`reconcile sandbox ARGS` from the project's root."""
    return reconcile("sandbox", *args, cwd=PROJECT_ROOT, timeout=timeout, check=check)


def run_python(
    *args: str,
    cwd: Path,
    env: Mapping[str, str],
    stdin: str | None = None,
    timeout: float = 60,
    check: bool = False,
) -> subprocess.CompletedProcess[str]:
    """`python ARGS` (this venv's interpreter) in exactly `env`, output captured."""
    return subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        env=dict(env),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=check,
    )
