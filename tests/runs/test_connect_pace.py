"""The pace a run's client gets (`reconcile.runs.connect.open_client`): Codat's 1,000 a minute
against Codat; the embedded sandbox's own limit a minute, none without one; the command line's
`--requests-per-minute` (in `Where`) above both, 0 turning pacing off."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from reconcile.codat.pacing import CODAT_REQUESTS_PER_MINUTE
from reconcile.runs.connect import Where, open_client
from reconcile.sandbox.options import MINUTE_LIMIT_ENV


@pytest.fixture
def clean(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in (MINUTE_LIMIT_ENV, "CODAT_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CODAT_API_KEY", "k")
    return monkeypatch


def pace(where: Where) -> int | None:
    client = open_client(where)
    asyncio.run(client.aclose())
    return client.pacer.per_window


def test_against_codat_the_documented_limit_unless_told(clean: pytest.MonkeyPatch) -> None:
    where = Where(False, None)
    assert pace(where) == CODAT_REQUESTS_PER_MINUTE == 1000
    assert pace(Where(False, None, requests_per_minute=300)) == 300
    assert pace(Where(False, None, requests_per_minute=0)) is None


def test_a_loopback_url_is_unpaced_unless_told(clean: pytest.MonkeyPatch) -> None:
    clean.setenv("CODAT_BASE_URL", "http://127.0.0.1:8765")
    assert pace(Where(False, None)) is None
    assert pace(Where(False, None, requests_per_minute=12)) == 12


def test_the_embedded_sandbox_paces_to_its_own_limit(
    clean: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    db = tmp_path / "s.db"
    assert pace(Where(True, db)) is None  # no limit a minute by default: none to keep to
    clean.setenv(MINUTE_LIMIT_ENV, "40")
    assert pace(Where(True, db)) == 40
    assert pace(Where(True, db, requests_per_minute=10)) == 10
    assert pace(Where(True, db, requests_per_minute=0)) is None
