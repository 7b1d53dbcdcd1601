"""Pages read ahead (`reconcile.codat.paging.PAGES_AHEAD`) are still checked in order, each once."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from typing import Any

import pytest

from reconcile.codat import ClientSettings, CodatClient, UnexpectedAnswer
from reconcile.codat.paging import PAGES_AHEAD
from reconcile.model import Company
from tests.support.hostile_server import Reply, Seen, companies_route, company, page, serve_hostile

pytestmark = pytest.mark.usefixtures("page_paths")  # each test on both ways a page is read

PAGE_SIZE = 2


class Pages:
    """Answers page N of `companies` after `delays[N]` seconds, counting requests in flight."""

    def __init__(self, companies: list[dict[str, Any]], delays: dict[int, float]) -> None:
        self.companies = companies
        self.delays = delays
        self.asked: Counter[int] = Counter()
        self.in_flight = 0
        self.most_in_flight = 0
        self._lock = threading.Lock()

    def __call__(self, seen: Seen) -> Reply:
        number = int(seen.query["page"][0])
        with self._lock:
            self.asked[number] += 1
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        time.sleep(self.delays.get(number, 0.0))
        with self._lock:
            self.in_flight -= 1
        start = (number - 1) * PAGE_SIZE
        return Reply(200, page(self.companies[start : start + PAGE_SIZE], len(self.companies)))


def read(pages: Pages, expected: int = 0) -> list[Company] | UnexpectedAnswer:
    async def go(url: str) -> list[Company] | UnexpectedAnswer:
        async with CodatClient("k", ClientSettings(base_url=url, max_attempts=1)) as client:
            try:
                return await client.list_companies(page_size=PAGE_SIZE, expected=expected)
            except UnexpectedAnswer as exc:
                return exc

    with serve_hostile(companies_route(pages)) as codat:
        return asyncio.run(go(codat.url))


def test_pages_answered_out_of_order_are_checked_in_order_and_asked_once() -> None:
    companies = [company(uid=f"u{i}") for i in range(11)]
    pages = Pages(companies, {2: 0.3, 3: 0.2})  # later pages answer before earlier ones
    got = read(pages)
    assert isinstance(got, list)
    assert [c.uid for c in got] == [f"u{i}" for i in range(11)]
    assert pages.asked == Counter({n: 1 for n in range(1, 7)})


def test_several_pages_are_in_flight_but_no_more_than_allowed() -> None:
    pages = Pages([company(uid=f"u{i}") for i in range(20)], dict.fromkeys(range(1, 11), 0.2))
    got = read(pages)
    assert isinstance(got, list) and len(got) == 20
    assert 2 <= pages.most_in_flight <= PAGES_AHEAD + 1


def test_the_checked_page_s_error_wins_over_pages_read_ahead() -> None:
    """Page 3 lists a company twice while page 4 is already on its way: the read fails on page
    3, whatever page 4 would have said."""
    companies = [company(uid=f"u{i}") for i in range(8)]
    companies[4] = companies[0]  # page 3 repeats the first company
    pages = Pages(companies, {3: 0.1})
    got = read(pages)
    assert isinstance(got, UnexpectedAnswer)
    assert "is listed twice (page 3)" in str(got)


class FirstWaits(Pages):
    """Page 1 is answered only once `wait_for` other pages were asked (at most 10 s): which pages
    were asked before page 1's answer left is recorded in `asked_before_first`."""

    def __init__(self, companies: list[dict[str, Any]], wait_for: int) -> None:
        super().__init__(companies, {})
        self.wait_for = wait_for
        self.others = threading.Semaphore(0)
        self.asked_before_first: set[int] = set()

    def __call__(self, seen: Seen) -> Reply:
        number = int(seen.query["page"][0])
        if number == 1:
            for _ in range(self.wait_for):
                self.others.acquire(timeout=10)
            with self._lock:
                self.asked_before_first = set(self.asked) | {1}
        else:
            self.others.release()
        return super().__call__(seen)


def test_the_pages_an_expected_count_fills_are_asked_with_the_first() -> None:
    """A plan expects about as many companies as its file has customers: pages 2 and 3 are
    asked for before page 1 is answered; each page is asked once."""
    companies = [company(uid=f"u{i}") for i in range(11)]
    pages = FirstWaits(companies, wait_for=PAGES_AHEAD)
    got = read(pages, expected=11)
    assert isinstance(got, list) and [c.uid for c in got] == [f"u{i}" for i in range(11)]
    assert pages.asked_before_first == set(range(1, PAGES_AHEAD + 2))
    assert pages.asked == Counter({n: 1 for n in range(1, 7)})


def test_control_without_an_expectation_page_1_is_read_alone() -> None:
    pages = FirstWaits([company(uid=f"u{i}") for i in range(11)], wait_for=0)
    got = read(pages)
    assert isinstance(got, list) and len(got) == 11
    assert pages.asked_before_first == {1}


def test_fewer_companies_than_expected_cost_at_most_the_pages_read_ahead() -> None:
    companies = [company(uid=f"u{i}") for i in range(3)]  # 2 pages; 40 companies expected
    pages = Pages(companies, {1: 0.2})
    got = read(pages, expected=40)
    assert isinstance(got, list) and len(got) == 3
    assert sum(pages.asked.values()) <= 1 + PAGES_AHEAD
    assert set(pages.asked) <= set(range(1, PAGES_AHEAD + 2))


def test_each_decoded_page_is_let_go_once_it_is_checked(monkeypatch: Any) -> None:
    """When a page is checked, the pages checked before it are gone (a finished fetch task
    holds its result: the read lets go of the task as well as of the body)."""
    import weakref

    from reconcile.codat import paging

    class Body(dict[str, Any]):
        """A decoded page that can be watched (a plain dict cannot be weakly referenced)."""

    bodies: dict[int, weakref.ref[Body]] = {}
    alive_at_check: list[list[int]] = []
    original = paging.parse_page

    def parse_page(body: object, where: str) -> tuple[list[Company], int]:
        alive_at_check.append(sorted(n for n, ref in bodies.items() if ref() not in (None, body)))
        return original(body, where)

    async def fetch(number: int) -> object:
        start = (number - 1) * PAGE_SIZE
        body = Body(page(companies[start : start + PAGE_SIZE], len(companies)))
        bodies[number] = weakref.ref(body)
        return body

    monkeypatch.setattr(paging, "parse_page", parse_page)
    companies = [company(uid=f"u{i}") for i in range(3 * PAGE_SIZE)]
    found = asyncio.run(paging.read_all(fetch, PAGE_SIZE, expected=len(companies)))
    assert len(found) == len(companies)
    assert alive_at_check == [[2, 3], [3], []]  # only pages not checked yet (fetched ahead)
