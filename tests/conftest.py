"""Shared fixtures: one real sandbox server (a subprocess on loopback) per test session."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from hypothesis import settings

from tests.support.sandbox_server import serve_sandbox

TEST_API_KEY = "sandbox-test-key"
AUTH_HEADERS = {"Authorization": "Basic " + base64.b64encode(TEST_API_KEY.encode()).decode()}
# The shared server is hit by many tests; its daily quota must not be what a test measures.
SHARED_SERVER_ARGS = ("--daily-quota", "10000000")

# Hypothesis: a short run by default (`python -m pytest` on a laptop), the full counts in CI
# (.ci/run sets HYPOTHESIS_PROFILE=ci; `--hypothesis-profile ci` does the same).
settings.register_profile("dev", max_examples=50)
settings.register_profile("ci", max_examples=100, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))
SHORT_RUN_SHARE = 0.1


def examples(full: int) -> int:
    """The example count of a test that sets its own: `full` under the ci profile, otherwise a
    tenth of it (at least 20, never more than `full`)."""
    if settings.get_current_profile_name() == "ci":
        return full
    return min(full, max(20, round(full * SHORT_RUN_SHARE)))


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto`: half as many workers again as there are cores. Most of the suite's tests wait
    (on `reconcile` subprocesses, served sandboxes and their latency, a watch's pass, retries),
    so one worker a core leaves the cores idle about half the time: on 2 cores, 3 workers run
    the suite in about two thirds of the time on the same CPU. PYTEST_XDIST_AUTO_NUM_WORKERS
    still sets the number, as it does without this hook."""
    chosen = os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS", "")
    if chosen.isdigit():
        return int(chosen)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, (cores or 1) * 3 // 2)


@pytest.fixture(scope="session")
def sandbox_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The SQLite file behind the session's served sandbox (a `Store` on it acts directly)."""
    return tmp_path_factory.mktemp("sandbox") / "sandbox.db"


@pytest.fixture(scope="session")
def sandbox_url(sandbox_db: Path) -> Iterator[str]:
    """Base URL of a real sandbox server on loopback, shared by the session's tests."""
    with serve_sandbox(sandbox_db, *SHARED_SERVER_ARGS) as url:
        yield url


@pytest.fixture
def codat(sandbox_url: str) -> Iterator[httpx.Client]:
    """An authenticated httpx client for the served sandbox."""
    with httpx.Client(base_url=sandbox_url, headers=AUTH_HEADERS, timeout=30) as client:
        yield client


@pytest.fixture(params=["careful", "typed"])
def page_paths(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each guarantee of the listing on both ways a page is read: decoded then checked, and
    checked as msgspec decodes it (`reconcile.codat.typed_page`, for large pages: here any)."""
    if request.param == "typed":
        monkeypatch.setattr("reconcile.codat.paging.TYPED_FROM", 0)
    path: str = request.param
    return path
