"""Async httpx client: Basic auth, verified pagination, retries with backoff, idempotency keys.

Retries cover 408, 429, 5xx and connection errors, with exponential backoff and full jitter;
a `Retry-After` header is honoured (each wait capped at `backoff_cap`). A POST or PATCH is only
retried when it carries an `Idempotency-Key` (so a retry replays instead of duplicating); with a
key, a 409 ("the first request with this key is still running") is retried too, until the first
one has answered. A 429 that says the daily quota is used up is not retried: `QuotaExhausted`
(see `reconcile.codat.ratelimit`).

Every answer the tool reads is checked by `reconcile.codat.answers` and returned as the model's
types; every path is built by `reconcile.paths` (ids quoted as one segment).

The key never leaves in clear: plain http is allowed only to loopback and then never through a
proxy from the environment (`HTTP_PROXY` would receive the Authorization header); https keeps
honouring `HTTPS_PROXY` (the key travels inside TLS, through a CONNECT tunnel).
"""

from __future__ import annotations

import asyncio
import base64
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from reconcile import paths
from reconcile.codat.answers import (
    UnexpectedAnswer,
    decode,
    json_or_none,
    parse_company,
    parse_connection,
    parse_expense_config,
    parse_mapping_options,
    parse_profile,
)
from reconcile.codat.errors import (
    CodatHTTPError,
    CodatTransportError,
    ConfigError,
    QuotaExhausted,
    clean,
)
from reconcile.codat.paging import read_all
from reconcile.codat.ratelimit import http_date, read_rate_limit, retry_after_seconds
from reconcile.codat.transport import lean_transport
from reconcile.loopback import is_loopback
from reconcile.model import Company, Connection, ExpenseConfig, MappingOptions, Profile

DEFAULT_BASE_URL = "https://api.codat.io"
MAX_PAGE_SIZE = 5000
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
USER_AGENT = "codat-reconcile"
log = logging.getLogger("reconcile.http")

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class ClientSettings:
    base_url: str = DEFAULT_BASE_URL
    timeout: float = 30.0
    max_attempts: int = 6
    backoff_base: float = 0.5
    backoff_cap: float = 30.0
    # The longest a 429 may ask to wait (Retry-After) and still be waited out, by default what
    # the retries could wait in all (30 s x 5); beyond it, the quota is used up for now.
    retry_budget: float = 150.0
    # The largest answer read (a page of 5,000 companies is about 5 MB): a hostile or broken
    # server cannot exhaust memory; beyond it the answer is an `UnexpectedAnswer`.
    max_answer_bytes: int = 64 * 1024 * 1024


def check_base_url(base_url: str) -> str:
    try:
        parts = urlsplit(base_url)
        if "@" in parts.netloc:
            # Never echo it: the user info may be a password.
            raise ConfigError(
                "the base URL holds user info (user:password@); Codat takes the key from "
                "CODAT_API_KEY, so remove it from CODAT_BASE_URL"
            )
        _ = parts.port  # a malformed port raises here
        httpx.URL(base_url)
    except (ValueError, httpx.InvalidURL) as exc:
        raise ConfigError(f"base URL {base_url!r} is not a valid URL ({exc})") from None
    if parts.scheme == "https" and parts.hostname:
        return base_url.rstrip("/")
    if parts.scheme == "http" and parts.hostname and is_loopback(parts.hostname):
        return base_url.rstrip("/")
    if parts.scheme == "http":
        raise ConfigError(
            f"refusing plain http:// to {parts.hostname}: the API key would cross the network "
            "unencrypted; use https:// (plain http is allowed only to a loopback address)"
        )
    raise ConfigError(f"base URL {base_url!r} is not an http(s) URL")


def basic_auth(api_key: str) -> str:
    return "Basic " + base64.b64encode(api_key.encode()).decode("ascii")


class _TooLarge(Exception):
    def __init__(self, size: int) -> None:
        self.size = size


class CodatClient:
    """One Codat tenant. Use as `async with CodatClient(...) as client:`."""

    def __init__(
        self,
        api_key: str,
        settings: ClientSettings | None = None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        if not api_key:
            raise ConfigError("no Codat API key: set CODAT_API_KEY (or use --sandbox)")
        self.settings = settings or ClientSettings()
        self.base_url = check_base_url(self.settings.base_url)
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            # The lean aiohttp-backed transport unless one is given (sandbox, tests) or an
            # environment proxy applies (then httpx's own, which honours it).
            transport=transport if transport is not None else lean_transport(self.base_url),
            timeout=self.settings.timeout,
            # Proxies from the environment only for https: over plain http a proxy would read
            # the Authorization header.
            trust_env=self.base_url.startswith("https:"),
            headers={
                "Authorization": basic_auth(api_key),
                "Accept": "application/json",
                "User-Agent": USER_AGENT,
            },
        )
        self._sleep = sleep
        self._rng = rng or random.Random()
        self.requests_sent = 0
        self.server_time: datetime | None = None  # from the last response's Date header
        # From the last response's X-Rate-Limit-* headers (None when absent).
        self.rate_limit_limit: int | None = None
        self.rate_limit_remaining: int | None = None
        self.rate_limit_reset: datetime | None = None

    async def __aenter__(self) -> CodatClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # ------------------------------------------------------------------ transport

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> httpx.Response:
        """Send with retries; return the final successful response or raise a typed error."""
        retryable_method = method in ("GET", "PUT", "DELETE", "HEAD") or idempotency_key
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        attempt = 0
        first_started = time.monotonic()
        while True:
            attempt += 1
            started = time.perf_counter()
            try:
                response = await self._receive(
                    self._http.build_request(
                        method, path, json=json, params=params, headers=headers
                    )
                )
            except httpx.DecodingError as exc:
                self.requests_sent += 1
                raise UnexpectedAnswer(f"{method} {path}", f"unreadable body ({exc})") from None
            except httpx.TransportError as exc:
                self.requests_sent += 1
                elapsed = (time.perf_counter() - started) * 1000
                log.info("%s %s -> %s (%.0f ms)", method, path, type(exc).__name__, elapsed)
                if retryable_method and attempt < self.settings.max_attempts:
                    await self._sleep(self._backoff(attempt, None))
                    continue
                raise CodatTransportError(
                    method,
                    path,
                    type(exc).__name__,
                    base_url=self.base_url,
                    attempts=attempt,
                    elapsed=time.monotonic() - first_started,
                ) from None
            self.requests_sent += 1
            elapsed = (time.perf_counter() - started) * 1000
            log.info("%s %s -> %d (%.0f ms)", method, path, response.status_code, elapsed)
            now = self._note_answer(response)
            if 200 <= response.status_code < 300:
                return response
            status = response.status_code
            wait = retry_after_seconds(response.headers.get("Retry-After"), now)
            if status == 429:
                self._stop_if_quota_used_up(method, path, response, wait, now)
            retry = (status in RETRY_STATUSES and (retryable_method or status == 429)) or (
                status == 409 and idempotency_key is not None
            )
            if retry and attempt < self.settings.max_attempts:
                await self._sleep(self._backoff(attempt, wait))
                continue
            raise CodatHTTPError(method, path, status, json_or_none(response.content))

    async def _receive(self, request: httpx.Request) -> httpx.Response:
        """Send, and read the answer only up to `max_answer_bytes`."""
        cap = self.settings.max_answer_bytes
        response = await self._http.send(request, stream=True)
        try:
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > cap:
                raise _TooLarge(int(declared))
            parts: list[bytes] = []
            size = 0
            async for part in response.aiter_bytes():
                size += len(part)
                if size > cap:
                    raise _TooLarge(size)
                parts.append(part)
            response._content = b"".join(parts)  # what `aread()` does, within the cap
        except _TooLarge as exc:
            raise UnexpectedAnswer(
                f"{request.method} {request.url.path}",
                f"the answer is larger than {cap:,} bytes ({exc.size:,} or more); not read",
            ) from None
        finally:
            await response.aclose()
        return response

    async def request_json(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> object:
        """The decoded body of a successful answer (None when empty); a body that is not JSON
        is an `UnexpectedAnswer`."""
        response = await self.request(
            method, path, json=json, params=params, idempotency_key=idempotency_key
        )
        return decode(
            response.content,
            f"{method} {path}",
            status=response.status_code,
            content_type=response.headers.get("Content-Type", ""),
        )

    def _note_answer(self, response: httpx.Response) -> datetime:
        """Codat's clock (the Date header, else ours) and the rate-limit headers."""
        date = response.headers.get("Date")
        self.server_time = (date and http_date(date)) or datetime.now(UTC)
        rate = read_rate_limit(response.headers, self.server_time)
        self.rate_limit_limit = rate.limit
        self.rate_limit_remaining = rate.remaining
        self.rate_limit_reset = rate.reset
        return self.server_time

    def _stop_if_quota_used_up(
        self,
        method: str,
        path: str,
        response: httpx.Response,
        wait: float | None,
        now: datetime,
    ) -> None:
        used_up = self.rate_limit_remaining == 0
        too_long = wait is not None and wait > self.settings.retry_budget
        if not (used_up or too_long):
            return
        resets_at = self.rate_limit_reset
        if resets_at is None and wait is not None:
            resets_at = datetime.fromtimestamp(now.timestamp() + wait, UTC)
        raise QuotaExhausted(
            method,
            path,
            json_or_none(response.content),
            limit=self.rate_limit_limit,
            resets_at=resets_at,
        )

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self.settings.backoff_cap)
        ceiling = min(self.settings.backoff_cap, self.settings.backoff_base * 2 ** (attempt - 1))
        return self._rng.uniform(0, ceiling)

    # ------------------------------------------------------------------ typed reads

    async def list_companies(
        self, tags: str | None = None, *, page_size: int = MAX_PAGE_SIZE
    ) -> list[Company]:
        """Every company matching the tag filter, verified (see `reconcile.codat.paging`)."""

        async def fetch(page: int) -> object:
            params: dict[str, Any] = {"page": page, "pageSize": page_size}
            if tags:
                params["tags"] = tags
            return await self.request_json("GET", paths.companies(), params=params)

        return await read_all(fetch, page_size)

    async def get_profile(self) -> Profile:
        """The Codat account this key belongs to (`GET /profile`)."""
        path = paths.profile()
        return parse_profile(await self.request_json("GET", path), f"GET {path}")

    async def get_company(self, company_id: str) -> Company:
        path = paths.company(company_id)
        where = f"GET {path}"
        company = parse_company(await self.request_json("GET", path), where)
        _same_id(where, "id", company.id, company_id)
        return company

    async def get_connection(self, company_id: str, connection_id: str) -> Connection:
        path = paths.connection(company_id, connection_id)
        where = f"GET {path}"
        connection = parse_connection(await self.request_json("GET", path), where)
        _same_id(where, "id", connection.id, connection_id)
        return connection

    async def get_expense_config(self, company_id: str) -> ExpenseConfig | None:
        """The company's expense config, or None when it has none (404)."""
        path = paths.expense_config(company_id)
        try:
            body = await self.request_json("GET", path)
        except CodatHTTPError as exc:
            if exc.status == 404:
                return None
            raise
        return parse_expense_config(body, f"GET {path}")

    async def get_mapping_options(self, company_id: str) -> MappingOptions:
        path = paths.mapping_options(company_id)
        return parse_mapping_options(await self.request_json("GET", path), f"GET {path}")

    # ------------------------------------------------------------------ writes (tests, tools)

    async def create_company(
        self, body: dict[str, Any], *, idempotency_key: str | None = None
    ) -> Company:
        path = paths.companies()
        answer = await self.request_json("POST", path, json=body, idempotency_key=idempotency_key)
        return parse_company(answer, f"POST {path}")

    async def create_connection(
        self, company_id: str, platform_key: str, *, idempotency_key: str | None = None
    ) -> Connection:
        path = paths.connections(company_id)
        answer = await self.request_json(
            "POST", path, json={"platformKey": platform_key}, idempotency_key=idempotency_key
        )
        return parse_connection(answer, f"POST {path}")

    async def delete_company(self, company_id: str) -> None:
        await self.request("DELETE", paths.company(company_id))


def _same_id(where: str, field: str, got: str, asked: str) -> None:
    """Codat answered about the thing asked for, not another one."""
    if got.casefold() != asked.casefold():
        raise UnexpectedAnswer(where, f"{field} is {got}, not the {clean(asked, 60)} asked for")
