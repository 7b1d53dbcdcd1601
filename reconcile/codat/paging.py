"""Reading every page of `GET /companies`, verified: a plan is never made from a partial read.

The read must hold exactly the first page's `totalResults` distinct companies:
- a page shorter than the page size ends the read, and the number of pages is capped by the
  first `totalResults` (a server cannot keep the client paging forever);
- a short read, a company listed twice, or a page longer than the page size is an error;
- pages are offsets, so when `totalResults` changes between pages (a company created or deleted
  meanwhile, which may shift one across a page boundary) the read starts again, at most
  `MAX_LIST_RESTARTS` times; a count that keeps changing is an error.

What live Codat does between this read and a later write is the executor's business: it
re-reads what it touches.
"""

from __future__ import annotations

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


async def _read_once(fetch: FetchPage, page_size: int, totals: list[int]) -> list[Company]:
    companies: dict[str, Company] = {}
    first_total: int | None = None
    last_page = 1
    page = 1
    while True:
        batch, total = parse_page(await fetch(page), WHERE)
        if first_total is None:
            first_total = total
            totals.append(total)
            last_page = max(1, -(-total // page_size))
        elif total != first_total:
            raise _CountChanged(total)
        if len(batch) > page_size:
            raise UnexpectedAnswer(
                WHERE, f"page {page} holds {len(batch)} companies, more than pageSize {page_size}"
            )
        for company in batch:
            key = company.id.casefold()
            if key in companies:
                raise UnexpectedAnswer(
                    WHERE,
                    f"company {company.id} is listed twice (page {page}); nothing is planned "
                    "from a read that may have missed another: try again",
                )
            companies[key] = company
        if len(batch) < page_size or page >= last_page:
            break
        page += 1
    if len(companies) != first_total:
        raise UnexpectedAnswer(
            WHERE,
            f"totalResults is {first_total} but {len(companies)} "
            f"compan{'y was' if len(companies) == 1 else 'ies were'} listed; nothing is planned "
            "from a partial read: try again",
        )
    return list(companies.values())
