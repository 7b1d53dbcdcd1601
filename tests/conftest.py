"""Shared fixtures: one real sandbox server (a subprocess on loopback) per test session."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.sandbox_server import serve_sandbox

TEST_API_KEY = "sandbox-test-key"
AUTH_HEADERS = {"Authorization": "Basic " + base64.b64encode(TEST_API_KEY.encode()).decode()}
# The shared server is hit by many tests; its daily quota must not be what a test measures.
SHARED_SERVER_ARGS = ("--daily-quota", "10000000")


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
