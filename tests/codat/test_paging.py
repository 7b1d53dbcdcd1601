"""The list of companies is verified page by page against a hostile server (issue 10, point 2)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from typing import Any

import pytest

from reconcile.codat import ClientSettings, CodatClient, UnexpectedAnswer
from reconcile.model import Company
from tests.support.hostile_server import Reply, Seen, companies_route, company, page, serve_hostile

pytestmark = pytest.mark.usefixtures("page_paths")  # each test on both ways a page is read

PAGE_SIZE = 2


def read(answer: Callable[[Seen], Reply]) -> tuple[list[Company] | UnexpectedAnswer, int]:
    """list_companies at page size 2: the companies (or the error) and the requests sent."""

    async def go(url: str) -> list[Company] | UnexpectedAnswer:
        async with CodatClient("k", ClientSettings(base_url=url, max_attempts=1)) as client:
            try:
                return await client.list_companies(tags="t=x", page_size=PAGE_SIZE)
            except UnexpectedAnswer as exc:
                return exc

    with serve_hostile(companies_route(answer)) as codat:
        got = asyncio.run(go(codat.url))
    return got, len(codat.requests)


def pages(*answers: tuple[list[dict[str, Any]], int]) -> Callable[[Seen], Reply]:
    """Answer page N with answers[N-1] (the last one for any later page)."""

    def answer(seen: Seen) -> Reply:
        number = int(seen.query["page"][0])
        results, total = answers[min(number, len(answers)) - 1]
        return Reply(200, page(results, total))

    return answer


def test_every_page_is_read_and_a_short_page_ends_the_read() -> None:
    a, b, c = company(uid="a"), company(uid="b"), company(uid="c")
    got, requests = read(pages(([a, b], 3), ([c], 3)))
    assert isinstance(got, list) and [x.uid for x in got] == ["a", "b", "c"]
    assert requests == 2


def test_pages_are_capped_by_the_first_total() -> None:
    """A server that always has another full page is not followed past totalResults."""
    fresh = (company(uid=f"u{i}") for i in itertools.count())
    got, requests = read(lambda seen: Reply(200, page([next(fresh), next(fresh)], 4)))
    assert isinstance(got, list) and len(got) == 4
    assert requests == 2


def test_an_empty_list() -> None:
    got, requests = read(pages(([], 0)))
    assert got == [] and requests == 1


def test_a_short_read_is_an_error() -> None:
    got, _ = read(pages(([company()], 2)))
    assert isinstance(got, UnexpectedAnswer)
    assert "totalResults is 2 but 1 company was listed" in str(got)


def test_a_full_last_page_short_of_the_total_is_an_error() -> None:
    got, requests = read(pages(([company(), company()], 5), ([company(), company()], 5), ([], 5)))
    assert isinstance(got, UnexpectedAnswer) and "totalResults is 5 but 4" in str(got)
    assert requests == 3


def test_a_repeated_id_is_an_error() -> None:
    a = company()
    got, _ = read(pages(([a, company()], 3), ([a], 3)))
    assert isinstance(got, UnexpectedAnswer)
    assert f"company {a['id']} is listed twice (page 2)" in str(got)


def test_an_id_repeated_in_other_case_is_an_error() -> None:
    """Ids are compared case-blind (folded only when not already lower case)."""
    a = company()
    upper = {**a, "id": a["id"].upper()}
    got, _ = read(pages(([upper, company()], 3), ([a], 3)))
    assert isinstance(got, UnexpectedAnswer)
    assert f"company {a['id']} is listed twice (page 2)" in str(got)
    got, _ = read(pages(([a, company()], 3), ([upper], 3)))
    assert isinstance(got, UnexpectedAnswer)
    assert f"company {upper['id']} is listed twice (page 2)" in str(got)


def test_a_page_longer_than_the_page_size_is_an_error() -> None:
    got, _ = read(
        pages(
            ([company(), company(), company()], 3),
        )
    )
    assert isinstance(got, UnexpectedAnswer) and "more than pageSize 2" in str(got)


def test_a_count_that_changed_once_restarts_the_read() -> None:
    """A company created between two pages may shift another across the boundary."""
    a, b, c, d = (company(uid=u) for u in "abcd")
    calls = itertools.count()

    def answer(seen: Seen) -> Reply:
        if next(calls) == 0:
            return Reply(200, page([a, b], 3))
        return pages(([a, b], 4), ([c, d], 4))(seen)

    got, requests = read(answer)
    assert isinstance(got, list) and [x.uid for x in got] == ["a", "b", "c", "d"]
    assert requests == 4  # page 1 (3), page 2 (4): again from page 1


def test_a_count_that_keeps_growing_is_an_error() -> None:
    counter = itertools.count(3)

    def answer(seen: Seen) -> Reply:
        return Reply(200, page([company(), company()], next(counter)))

    got, requests = read(answer)
    assert isinstance(got, UnexpectedAnswer)
    assert "totalResults kept changing while the pages were read (3, 4, 5, 6, 7, 8)" in str(got)
    assert requests == 6


@pytest.mark.parametrize("total", [-1, True, 2.5, None])
def test_total_results_must_be_a_count(total: object) -> None:
    got, _ = read(lambda seen: Reply(200, {"results": [], "totalResults": total}))
    assert isinstance(got, UnexpectedAnswer) and "totalResults" in str(got)
