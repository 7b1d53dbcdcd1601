"""Reading every page of `GET /companies`, verified: a plan is never made from a partial read.

The read must hold exactly the first page's `totalResults` distinct companies:
- a page shorter than the page size ends the read, and the number of pages is capped by the
  first `totalResults` (a server cannot keep the client paging forever);
- a short read, a company listed twice, or a page longer than the page size is an error;
- pages are offsets, so when `totalResults` changes between pages (a company created or deleted
  meanwhile, which may shift one across a page boundary) the read starts again, at most
  `MAX_LIST_RESTARTS` times; a count that keeps changing is an error.

While one page is checked, the next one (when the first `totalResults` says there is one and
this page is full) is already being fetched: a plan of 100,000 companies checks each page while
Codat prepares the next. A page fetched ahead of a read that then ends in error (or restarts) is
abandoned unused, so such a read may send one request more than it uses.

What live Codat does between this read and a later write is the executor's business: it
re-reads what it touches.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from reconcile.codat.answers import UnexpectedAnswer, parse_page
from reconcile.model import Company

WHERE = "GET /companies"
MAX_LIST_RESTARTS = 3

FetchPage = Callable[[int], Awaitable[object]]  # page number -> decoded body


class _CountChanged(Exception):
    def __init__(self, total: int) -> None:
        self.total = total


async def read_all(fetch: FetchPage, page_size: int) -> list[Company]:
    totals: list[int] = []
    for _ in range(MAX_LIST_RESTARTS):
        try:
            return await _read_once(fetch, page_size, totals)
        except _CountChanged as changed:
            totals.append(changed.total)
    seen = ", ".join(dict.fromkeys(str(t) for t in totals))
    raise UnexpectedAnswer(
        WHERE,
        f"totalResults kept changing while the pages were read ({seen}); nothing is planned "
        "from a partial read: try again when Codat is quieter",
    )


def _ahead(body: object, page: int, page_size: int, last_page: int | None) -> int | None:
    """The next page, when the unchecked `body` of `page` says there will be one (a peek:
    `parse_page` checks the same fields; a wrong guess costs one unused request, no more)."""
    if type(body) is not dict:
        return None
    results, total = body.get("results"), body.get("totalResults")
    if type(results) is not list or len(results) != page_size:
        return None
    if last_page is None:
        if type(total) is not int or total < 0:
            return None
        last_page = -(-total // page_size)
    return page + 1 if page < last_page else None


def _abandon(task: asyncio.Future[object] | None) -> None:
    if task is not None and not task.done():
        task.cancel()
    if task is not None:  # never leave an exception unretrieved (asyncio would log it)
        task.add_done_callback(lambda t: t.cancelled() or t.exception())


async def _read_once(fetch: FetchPage, page_size: int, totals: list[int]) -> list[Company]:
    companies: dict[str, Company] = {}
    first_total: int | None = None
    last_page: int | None = None
    page = 1
    ahead: asyncio.Future[object] | None = None
    try:
        body = await fetch(page)
        while True:
            following = _ahead(body, page, page_size, last_page)
            if following is not None:
                ahead = asyncio.ensure_future(fetch(following))
            batch, total = parse_page(body, WHERE)
            del body  # the decoded page goes as soon as it is checked
            if first_total is None:
                first_total = total
                totals.append(total)
                last_page = max(1, -(-total // page_size))
            elif total != first_total:
                raise _CountChanged(total)
            assert last_page is not None
            if len(batch) > page_size:
                raise UnexpectedAnswer(
                    WHERE,
                    f"page {page} holds {len(batch)} companies, more than pageSize {page_size}",
                )
            for company in batch:
                key = company.id.casefold()
                if key in companies:
                    raise UnexpectedAnswer(
                        WHERE,
                        f"company {company.id} is listed twice (page {page}); nothing is "
                        "planned from a read that may have missed another: try again",
                    )
                companies[key] = company
            if len(batch) < page_size or page >= last_page:
                break
            page += 1
            if ahead is not None:
                body, ahead = await ahead, None
            else:
                body = await fetch(page)
    finally:
        _abandon(ahead)
    if len(companies) != first_total:
        raise UnexpectedAnswer(
            WHERE,
            f"totalResults is {first_total} but {len(companies)} "
            f"compan{'y was' if len(companies) == 1 else 'ies were'} listed; nothing is planned "
            "from a partial read: try again",
        )
    return list(companies.values())
