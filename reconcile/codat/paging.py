"""Reading every page of `GET /companies`, verified: a plan is never made from a partial read.

The read must hold exactly the first page's `totalResults` distinct companies:
- a page shorter than the page size ends the read, and the number of pages is capped by the
  first `totalResults` (a server cannot keep the client paging forever);
- a first `totalResults` above `max_companies` (the client's cap, in proportion to the largest
  fleet the tool supports) ends the read at once, with a clear error, after the first page;
- a short read, a company listed twice, or a page longer than the page size is an error;
- pages are offsets, so when `totalResults` changes between pages (a company created or deleted
  meanwhile, which may shift one across a page boundary) the read starts again, at most
  `MAX_LIST_RESTARTS` times; a count that keeps changing is an error.

Pages are fetched ahead of the one being checked (they are still checked in order, each against
the first total): the next page as soon as a full page arrives, and once two pages agree on the
total, up to `PAGES_AHEAD` pages (at most `PAGES_AHEAD + 1` requests in flight). 100,000
companies are 20 pages, and Codat prepares several at once. A caller that expects a number of
companies (a plan: about as many as its file has customers) has the pages that number fills
asked for with the first, up to `PAGES_AHEAD` of them. A read that succeeds asks for exactly
the pages it would ask for one at a time, unless it found fewer companies than expected (then
at most `PAGES_AHEAD` pages more); one that ends in error (or restarts) may have asked for a few
it then abandons unused.

A large page is checked as it is decoded (`reconcile.codat.typed_page`, msgspec), and the
fetch hands over a `CheckedPage`; anything that path refuses, and any smaller page, is decoded
and checked as every answer is (`reconcile.codat.answers`).

What live Codat does between this read and a later write is the executor's business: it
re-reads what it touches.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, NamedTuple

from reconcile.codat.answers import UnexpectedAnswer, decode, parse_page
from reconcile.model import Company

if TYPE_CHECKING:
    from reconcile.codat.wire import Answer

WHERE = "GET /companies"
MAX_LIST_RESTARTS = 3
PAGES_AHEAD = 2
# Smaller pages are decoded as every answer is: importing msgspec (~7 ms, once a run) would cost
# more than its decoding saves (~4 us a company, a company being about 1 kB of the page).
TYPED_FROM = 2_000_000

FetchPage = Callable[[int], Awaitable[object]]  # page number -> decoded body


class CheckedPage(NamedTuple):
    """A page checked as it was decoded (`reconcile.codat.typed_page`)."""

    companies: list[Company]
    total: int


def decoded_page(answer: Answer, where: str) -> object:
    """A page's body for `read_all`: a `CheckedPage` when large and well-formed, else the
    decoded JSON (`reconcile.codat.answers.decode`), checked when its turn comes."""
    content = answer.content
    if len(content) >= TYPED_FROM:
        from reconcile.codat.typed_page import checked_page  # msgspec: for large pages only

        checked = checked_page(content)
        if checked is not None:
            return CheckedPage(*checked)
    content_type = answer.headers.get("Content-Type", "")
    return decode(content, where, status=answer.status_code, content_type=content_type)


def parsed_page(body: object) -> tuple[list[Company], int]:
    """A page's companies and `totalResults`: checked now, unless it was as it was decoded."""
    return body if type(body) is CheckedPage else parse_page(body, WHERE)


class _CountChanged(Exception):
    def __init__(self, total: int) -> None:
        self.total = total


async def read_all(
    fetch: FetchPage,
    page_size: int,
    *,
    max_companies: int | None = None,
    expected: int | None = None,
) -> list[Company]:
    """Every company of the pages, verified; with `expected`, the pages that many companies
    fill are asked for at once (up to `PAGES_AHEAD` after the first)."""
    totals: list[int] = []
    for _ in range(MAX_LIST_RESTARTS):
        try:
            return await _read_once(fetch, page_size, totals, max_companies, expected)
        except _CountChanged as changed:
            totals.append(changed.total)
    seen = ", ".join(dict.fromkeys(str(t) for t in totals))
    raise UnexpectedAnswer(
        WHERE,
        f"totalResults kept changing while the pages were read ({seen}); nothing is planned "
        "from a partial read: try again when Codat is quieter",
    )


def first_requests(page_size: int, expected: int) -> int:
    """The requests a read expecting `expected` companies begins at once (`_read_once`)."""
    pages = -(-expected // page_size) if expected > 0 else 1
    return min(pages, PAGES_AHEAD + 1)


def _full(body: object, page_size: int) -> bool:
    """Whether the unchecked `body` holds a full page (a peek: `parse_page` checks it)."""
    if type(body) is CheckedPage:
        return len(body.companies) == page_size
    return (
        type(body) is dict
        and type(results := body.get("results")) is list
        and (len(results) == page_size)
    )


def _last_page(body: object, page_size: int) -> int:
    """The last page the unchecked first page announces (a peek: a wrong guess costs unused
    requests, never a wrong read)."""
    if type(body) is CheckedPage:
        total: object = body.total
    else:
        total = body.get("totalResults") if type(body) is dict else None
    return -(-total // page_size) if type(total) is int and total > 0 else 1


def _folded(company_id: str) -> str:
    """The id compared case-blind: itself when already folded, as Codat writes UUIDs (a folded
    copy of each of 100,000 ids is 8.5 MB alive until the read ends)."""
    return company_id if company_id.isascii() and company_id.islower() else company_id.casefold()


async def _boxed(fetch: FetchPage, number: int) -> list[object]:
    """Page `number` in a list the reader empties: a finished task holds its result (and
    asyncio holds the task until the step it woke ends), so the decoded page would outlive its
    check by as long."""
    return [await fetch(number)]


def _abandon(task: asyncio.Future[list[object]]) -> None:
    task.cancel()
    # Never leave an exception unretrieved (asyncio would log it).
    task.add_done_callback(lambda t: t.cancelled() or t.exception())


async def _read_once(
    fetch: FetchPage,
    page_size: int,
    totals: list[int],
    max_companies: int | None,
    expected: int | None,
) -> list[Company]:
    companies: dict[str, Company] = {}
    first_total: int | None = None
    ahead: dict[int, asyncio.Future[list[object]]] = {}
    page = 1
    # Until the first page says, the pages the caller's expectation fills (only on the first
    # try: a restart means the count is moving).
    last_page = -(-expected // page_size) if expected and not totals else 1

    def fetch_ahead(pages: range) -> None:
        for number in pages:
            if number not in ahead and number <= last_page:
                ahead[number] = asyncio.ensure_future(_boxed(fetch, number))

    try:
        first = asyncio.ensure_future(_boxed(fetch, page))
        fetch_ahead(range(page + 1, page + PAGES_AHEAD + 1))
        body = (await first).pop()
        last_page = _last_page(body, page_size)

        while True:
            if _full(body, page_size):
                fetch_ahead(range(page + 1, page + 2))
            batch, total = parsed_page(body)
            del body  # the decoded page goes as soon as it is checked
            if first_total is None:
                if max_companies is not None and total > max_companies:
                    raise UnexpectedAnswer(
                        WHERE,
                        f"totalResults is {total:,}, more than the {max_companies:,} companies "
                        "one read may hold (twice the largest fleet this tool supports); "
                        "nothing is planned from it: is CODAT_BASE_URL right?",
                    )
                first_total = total
                totals.append(total)
                last_page = max(1, -(-total // page_size))
            elif total != first_total:
                raise _CountChanged(total)
            else:  # two pages agree on the total: read further ahead
                fetch_ahead(range(page + 2, page + PAGES_AHEAD + 1))
            if len(batch) > page_size:
                raise UnexpectedAnswer(
                    WHERE,
                    f"page {page} holds {len(batch)} companies, more than pageSize {page_size}",
                )
            for company in batch:
                key = _folded(company.id)
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
            pending = ahead.pop(page, None)
            body = (await (pending if pending is not None else _boxed(fetch, page))).pop()
    finally:
        for task in ahead.values():
            _abandon(task)
    if len(companies) != first_total:
        raise UnexpectedAnswer(
            WHERE,
            f"totalResults is {first_total} but {len(companies)} "
            f"compan{'y was' if len(companies) == 1 else 'ies were'} listed; nothing is planned "
            "from a partial read: try again",
        )
    return list(companies.values())
