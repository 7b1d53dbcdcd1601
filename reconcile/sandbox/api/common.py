"""What every route handler shares: the store, JSON in and out, paging parameters and links."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import quote, urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from reconcile.sandbox.errors import QUERY_SERVICE, ApiError
from reconcile.sandbox.onetime import fresh_links
from reconcile.sandbox.store.filters import FilterError, Ordering, Query, parse_order, parse_query
from reconcile.sandbox.store.sql import NotFound
from reconcile.sandbox.store.store import Store
from reconcile.sandbox.store.unit import current_unit

T = TypeVar("T")

MAX_PAGE_SIZE = 5000
DEFAULT_PAGE_SIZE = 100
# `page` is an int32 in Codat's specs: a larger number is a bad request, never an SQL overflow.
MAX_PAGE = 2**31 - 1


def store_of(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def base_url(request: Request) -> str:
    """The sandbox's own base URL as the client reached it (linkUrls point back here)."""
    return str(request.base_url).rstrip("/")


async def call(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a store call in the request's unit of work (`store/unit.py`): on the event loop, in
    the request's one transaction (begun here for a request that may write). Outside a unit
    (an app without the layers), off the event loop in a worker thread."""
    unit = current_unit()
    if unit is None:
        return await run_in_threadpool(function, *args, **kwargs)
    if unit.writes:
        await unit.begin()
    return function(*args, **kwargs)


# `json.dumps` with these separators would build the same encoder on every answer.
_compact_json = json.JSONEncoder(separators=(",", ":")).encode


def json_response(body: Any, status: int = 200) -> Response:
    return Response(_compact_json(body), status_code=status, media_type="application/json")


async def read_json(request: Request, *, invalid_status: int = 400) -> Any:
    raw = await request.body()
    try:
        return json.loads(raw) if raw.strip() else None
    except (ValueError, UnicodeDecodeError):
        raise ApiError(
            invalid_status, "Error processing request - the body is not valid JSON."
        ) from None
    except RecursionError:  # nested deeper than the decoder goes: a bad request, not a crash
        raise ApiError(
            invalid_status, "Error processing request - the body is nested too deeply."
        ) from None


def path_param(request: Request, name: str) -> str:
    return str(request.path_params[name])


def _int_param(request: Request, name: str, default: int, low: int, high: int | None) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, f"Error processing request - {name} must be an integer.") from None
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise ApiError(400, f"Error processing request - {name} must be {bound}.")
    return value


def paging(request: Request) -> tuple[int, int]:
    page = _int_param(request, "page", 1, 1, MAX_PAGE)
    page_size = _int_param(request, "pageSize", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
    return page, page_size


def company_not_found(company_id: str) -> ApiError:
    return ApiError(404, f"Company {company_id} not found.")


async def call_on_company(
    company_id: str, function: Callable[..., T], *args: Any, **kwargs: Any
) -> T:
    """`call` a store method that raises `NotFound` when the company `company_id` does not
    exist, which is Codat's 404 for the company."""
    try:
        return await call(function, *args, **kwargs)
    except NotFound:
        raise company_not_found(company_id) from None


def malformed(text: str) -> ApiError:
    return ApiError(400, f"Error parsing query - Malformed query. {text}", service=QUERY_SERVICE)


def query_and_order(
    request: Request, fields: Mapping[str, str]
) -> tuple[Query | None, Ordering | None]:
    query = order = None
    try:
        if (text := request.query_params.get("query")) is not None:
            query = parse_query(text, fields)
        if (text := request.query_params.get("orderBy")) is not None:
            order = parse_order(text, fields)
    except FilterError as exc:
        raise malformed(str(exc)) from None
    return query, order


def page_body(
    request: Request, results: list[Any], page: int, page_size: int, total: int
) -> dict[str, Any]:
    """Codat's paging envelope; the links keep the request's filters."""
    path = request.url.path
    kept = [(k, v) for k, v in request.query_params.multi_items() if k not in ("page", "pageSize")]

    def href(number: int) -> dict[str, str]:
        params = urlencode([("page", number), ("pageSize", page_size), *kept], quote_via=quote)
        return {"href": f"{path}?{params}"}

    links = {"self": {"href": path}, "current": href(page)}
    if page * page_size < total:
        links["next"] = href(page + 1)
    if page > 1:
        links["previous"] = href(page - 1)
    return {
        "results": results,
        "pageNumber": page,
        "pageSize": page_size,
        "totalResults": total,
        "_links": links,
    }


async def linked_page(
    request: Request, results: list[Any], page: int, page_size: int, total: int
) -> Response:
    """A page of companies or connections (`page_body`), each connection with a fresh
    one-time Link URL when the sandbox issues them."""
    return json_response(
        await fresh_links(request, page_body(request, results, page, page_size, total))
    )


# Reads one page of a listing: `(page=, page_size=, query=, order=)` -> (results, total).
PageRead = Callable[..., Awaitable[tuple[list[Any], int]]]


async def listing(request: Request, fields: Mapping[str, str], read: PageRead) -> Response:
    """A listing as Codat answers it (companies, a company's connections): `page` and
    `pageSize`, then `query` and `orderBy` on `fields`, checked in that order, then one page
    `read` with them, as a linked page."""
    page, page_size = paging(request)
    query, order = query_and_order(request, fields)
    results, total = await read(page=page, page_size=page_size, query=query, order=order)
    return await linked_page(request, results, page, page_size, total)
