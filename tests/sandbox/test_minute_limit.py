"""The sandbox's limit a minute (`--minute-limit`, `RECONCILE_SANDBOX_MINUTE_LIMIT`): per key, in
fixed minutes of the sandbox's clock; over it, Codat's 429 (checked against the OAS) with a
`Retry-After` of the seconds left in the minute. Off by default."""

from __future__ import annotations

import base64
import time
from datetime import datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

import httpx
import pytest

from reconcile.sandbox.layers.minute import MinuteWindows
from reconcile.sandbox.options import MINUTE_LIMIT_ENV, SandboxOptions, parse_minute_limit
from reconcile.sandbox.store.clock import advance
from tests.conftest import AUTH_HEADERS
from tests.sandbox import conforms
from tests.sandbox.test_daily_quota_option import counted, in_process_gets
from tests.support.sandbox_server import serve_sandbox

OTHER_KEY = {"Authorization": "Basic " + base64.b64encode(b"another-key").decode()}


def at_a_minutes_start(db: Path) -> None:
    """Move the sandbox's clock so a minute starts now: the requests that follow, within
    seconds, fall in one minute of it, whenever the test runs."""
    advance(db, 60 - time.time() % 60)


def test_the_fourth_request_of_a_minute_gets_codats_429_with_the_seconds_left(
    tmp_path: Path,
) -> None:
    db = tmp_path / "s.db"
    at_a_minutes_start(db)
    with (
        serve_sandbox(db, "--minute-limit", "3") as url,
        httpx.Client(base_url=url, headers=AUTH_HEADERS, timeout=10) as client,
    ):
        answers = [client.get("/companies") for _ in range(4)]
        other = client.get("/companies", headers=OTHER_KEY)  # another key's own minute
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    refused = answers[-1]
    conforms(refused, 429)
    assert "minute" in refused.json()["error"]
    sent_at: datetime = parsedate_to_datetime(refused.headers["Date"])  # the sandbox's clock
    left = 60 - sent_at.second
    assert int(refused.headers["Retry-After"]) in (left, left - 1)
    assert int(refused.headers["Retry-After"]) > 30  # the minute had just begun
    # It still says the day's quota, and the day counts only what was let through.
    assert refused.headers["X-Rate-Limit-Limit"] == "1000"
    assert refused.headers["X-Rate-Limit-Remaining"] == "997"
    assert counted(db) == 3 + 1  # three and the other key's one
    assert other.status_code == 200


@pytest.mark.parametrize("args", [(), ("--minute-limit", "4"), ("--minute-limit", "none")])
def test_control_under_the_limit_or_without_one_every_request_is_answered(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    db = tmp_path / "s.db"
    at_a_minutes_start(db)
    with (
        serve_sandbox(db, *args) as url,
        httpx.Client(base_url=url, headers=AUTH_HEADERS, timeout=10) as client,
    ):
        answers = [client.get("/companies") for _ in range(4)]
    assert [a.status_code for a in answers] == [200] * 4
    conforms(answers[-1], 200)


def test_the_minute_turns_on_the_clock() -> None:
    """Fixed minutes: the count starts again at each, whatever came just before."""
    minutes = MinuteWindows(2)
    start = 1_800_000_000.0  # a minute's start (divisible by 60)
    assert [minutes.over("k", start + t) for t in (0.0, 10.0, 20.5, 59.9)] == [None, None, 40, 1]
    assert minutes.over("other", start + 59.9) is None  # per key
    assert [minutes.over("k", start + 60 + t) for t in (0.0, 1.0, 2.0)] == [None, None, 58]


def test_in_process_the_environment_variable_asks_for_one(tmp_path: Path) -> None:
    assert SandboxOptions.in_process(tmp_path / "s.db", {}).minute_limit is None
    options = SandboxOptions.in_process(tmp_path / "s.db", {MINUTE_LIMIT_ENV: " 2 "})
    assert options.minute_limit == 2
    answers = in_process_gets(options, 3, clock=lambda: 1_800_000_030.0)
    assert [a.status_code for a in answers] == [200, 200, 429]
    conforms(answers[-1], 429)
    assert answers[-1].headers["Retry-After"] == "30"


@pytest.mark.parametrize("value", ["0", "-1", "banana", "1e3"])
def test_a_bad_limit_names_where_it_came_from(tmp_path: Path, value: str) -> None:
    with pytest.raises(ValueError, match=MINUTE_LIMIT_ENV):
        SandboxOptions.in_process(tmp_path / "s.db", {MINUTE_LIMIT_ENV: value})
    with pytest.raises(ValueError, match="--minute-limit"):
        parse_minute_limit(value)
