"""Caps that hold across requests: the companies and bytes of one listing, the command's
deadline, and `Retry-After` (issue 15, point 9)."""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from reconcile.codat import ClientSettings, CodatClient, DeadlineExceeded, UnexpectedAnswer
from reconcile.codat import client as client_module
from reconcile.codat.ratelimit import MAX_RETRY_AFTER, retry_after_seconds
from tests.support.hostile_server import Reply, Seen, companies_route, company, page, serve_hostile


def _list(
    settings: ClientSettings, answer: Reply | Callable[[Seen], Reply], page_size: int = 2
) -> tuple[object, int]:
    async def go(url: str) -> object:
        async with CodatClient("k", replace(settings, base_url=url)) as client:
            try:
                return await client.list_companies(page_size=page_size)
            except (UnexpectedAnswer, DeadlineExceeded) as exc:
                return exc

    with serve_hostile(companies_route(answer)) as codat:
        return asyncio.run(go(codat.url)), len(codat.requests)


def _settings(**fields: float) -> ClientSettings:
    return replace(ClientSettings(max_attempts=1), **fields)


@pytest.mark.usefixtures("page_paths")  # on both ways a page is read
def test_bytes_are_capped_across_pages_not_only_per_answer() -> None:
    """Each page is small (well under the 64 MB answer cap); together they pass the listing's."""
    fresh = (company(uid=f"u{i}", description="x" * 2000) for i in itertools.count())
    one_at_a_time = threading.Lock()  # pages read ahead are answered by concurrent threads

    def answer(seen: Seen) -> Reply:
        with one_at_a_time:
            return Reply(200, page([next(fresh), next(fresh)], 1000))

    settings = _settings(max_listed_bytes=50_000, max_listed_companies=1000)
    got, requests = _list(settings, answer)
    assert isinstance(got, UnexpectedAnswer)
    assert "the pages hold more than 50,000 bytes in all" in str(got)
    assert requests < 20  # stopped at the cap (~12 pages), not at totalResults' 500


@pytest.mark.usefixtures("page_paths")
def test_companies_are_capped_by_the_first_total() -> None:
    settings = _settings(max_listed_companies=10)
    got, requests = _list(settings, Reply(200, page([company(), company()], 11)))
    assert isinstance(got, UnexpectedAnswer)
    assert "totalResults is 11, more than the 10 companies one read may hold" in str(got)
    assert requests <= 2  # the first page, and at most the one asked for ahead of it
    got, _ = _list(settings, Reply(200, page([company()], 1)))
    assert isinstance(got, list) and len(got) == 1


def test_the_deadline_covers_the_whole_command_not_each_read() -> None:
    settings = _settings(deadline=1.5)
    started = time.monotonic()
    got, _ = _list(settings, Reply(200, page([company()]), drip=0.2))
    assert isinstance(got, DeadlineExceeded)
    assert time.monotonic() - started < 5
    assert "gave up at the deadline of 1.5 s" in str(got)


def test_no_retry_is_started_that_would_end_past_the_deadline() -> None:
    settings = _settings(deadline=2.0, max_attempts=6, backoff_cap=30.0)
    busy = Reply(503, {"error": "busy"}, {"Retry-After": "10"})
    started = time.monotonic()
    got, requests = _list(settings, busy)
    assert isinstance(got, DeadlineExceeded)
    assert time.monotonic() - started < 2 and requests == 1


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("inf", MAX_RETRY_AFTER),
        ("Infinity", MAX_RETRY_AFTER),
        ("1e20", MAX_RETRY_AFTER),
        ("-inf", 0.0),
        ("nan", None),
        ("7", 7.0),
        ("Fri, 31 Dec 9999 23:59:59 GMT", MAX_RETRY_AFTER),
    ],
)
def test_retry_after_is_clamped(value: str, expected: float | None) -> None:
    assert retry_after_seconds(value, datetime(2026, 12, 2, tzinfo=UTC)) == expected


class SteppedClock:
    """The client's `time`, its monotonic clock moved by the test (perf_counter stays real)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.perf_counter = time.perf_counter

    def monotonic(self) -> float:
        return self.now


def test_the_deadline_restarts_after_a_prompt(monkeypatch: pytest.MonkeyPatch) -> None:
    """apply asks a person first: their time at the prompt is not Codat's."""
    clock = SteppedClock()
    monkeypatch.setattr(client_module, "time", clock)

    async def go(url: str) -> tuple[object, object]:
        settings = ClientSettings(base_url=url, max_attempts=1, deadline=0.5)
        async with CodatClient("k", settings) as client:
            clock.now += 0.6  # the person reads the plan
            try:
                await client.list_companies(page_size=2)
                late: object = None
            except DeadlineExceeded as exc:
                late = exc
            client.restart_deadline()
            return late, await client.list_companies(page_size=2)

    with serve_hostile(companies_route(Reply(200, page([company()])))) as codat:
        late, listed = asyncio.run(go(codat.url))
    assert isinstance(late, DeadlineExceeded)
    assert isinstance(listed, list) and len(listed) == 1
