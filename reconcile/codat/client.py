"""Async httpx client: Basic auth, pagination, retries with backoff, idempotency keys.

Retries cover 408, 429, 5xx and connection errors, with exponential backoff and full jitter;
a `Retry-After` header is honoured. A POST or PATCH is only retried when it carries an
`Idempotency-Key` (so a retry replays instead of duplicating); with a key, a 409 ("the first
request with this key is still running") is retried too, until the first one has answered.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from reconcile.codat.errors import (
    CodatError,
    CodatHTTPError,
    CodatTransportError,
    ConfigError,
)
from reconcile.loopback import is_loopback

DEFAULT_BASE_URL = "https://api.codat.io"
MAX_PAGE_SIZE = 5000
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
MAX_LIST_RESTARTS = 3
log = logging.getLogger("reconcile.http")

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class ClientSettings:
    base_url: str = DEFAULT_BASE_URL
    timeout: float = 30.0
    max_attempts: int = 6
    backoff_base: float = 0.5
    backoff_cap: float = 30.0
    user_agent: str = "codat-reconcile"
    extra_headers: dict[str, str] = field(default_factory=dict)


def check_base_url(base_url: str) -> str:
    try:
        parts = urlsplit(base_url)
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
        base_url = check_base_url(self.settings.base_url)
        self._http = httpx.AsyncClient(
            base_url=base_url,
            transport=transport,
            timeout=self.settings.timeout,
            headers={
                "Authorization": basic_auth(api_key),
                "Accept": "application/json",
                "User-Agent": self.settings.user_agent,
                **self.settings.extra_headers,
            },
        )
        self._sleep = sleep
        self._rng = rng or random.Random()
        self.requests_sent = 0
        self.server_time: datetime | None = None  # from the last response's Date header

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
        while True:
            attempt += 1
            started = time.perf_counter()
            try:
                response = await self._http.request(
                    method, path, json=json, params=params, headers=headers
                )
            except httpx.DecodingError as exc:
                self.requests_sent += 1
                raise CodatError(f"{method} {path}: unreadable answer from Codat ({exc})") from None
            except httpx.TransportError as exc:
                self.requests_sent += 1
                elapsed = (time.perf_counter() - started) * 1000
                log.info("%s %s -> %s (%.0f ms)", method, path, type(exc).__name__, elapsed)
                if retryable_method and attempt < self.settings.max_attempts:
                    await self._sleep(self._backoff(attempt, None))
                    continue
                raise CodatTransportError(method, path, type(exc).__name__) from None
            self.requests_sent += 1
            elapsed = (time.perf_counter() - started) * 1000
            log.info("%s %s -> %d (%.0f ms)", method, path, response.status_code, elapsed)
            self._note_server_time(response)
            if 200 <= response.status_code < 300:
                return response
            status = response.status_code
            retry = (status in RETRY_STATUSES and (retryable_method or status == 429)) or (
                status == 409 and idempotency_key is not None
            )
            if retry and attempt < self.settings.max_attempts:
                await self._sleep(self._backoff(attempt, response.headers.get("Retry-After")))
                continue
            raise CodatHTTPError(method, path, response.status_code, _json_or_none(response))

    def _note_server_time(self, response: httpx.Response) -> None:
        date = response.headers.get("Date")
        if date:
            try:
                self.server_time = parsedate_to_datetime(date)
                return
            except (TypeError, ValueError):
                pass
        self.server_time = datetime.now(UTC)

    def _backoff(self, attempt: int, retry_after: str | None) -> float:
        if retry_after is not None:
            try:
                return min(max(float(retry_after), 0.0), self.settings.backoff_cap)
            except ValueError:
                pass
        ceiling = min(self.settings.backoff_cap, self.settings.backoff_base * 2 ** (attempt - 1))
        return self._rng.uniform(0, ceiling)

    async def _json(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        """A JSON object, or a typed error: never a traceback on a surprising answer."""
        response = await self.request(method, path, **kwargs)
        body = _json_or_none(response)
        if not isinstance(body, dict):
            kind = response.headers.get("Content-Type", "no content type")
            raise CodatError(
                f"{method} {path}: unexpected answer from Codat (status "
                f"{response.status_code}, {kind}); is CODAT_BASE_URL right?"
            )
        return body

    # ------------------------------------------------------------------ companies

    async def list_companies(
        self, *, tags: str | None = None, page_size: int = MAX_PAGE_SIZE
    ) -> list[dict[str, Any]]:
        """Every company matching the tag filter, following pages until all are read.

        Pages are offsets: if the total changes between pages (a company created or deleted
        meanwhile), an item may have shifted across a page boundary, so the read starts again.
        """
        for _ in range(MAX_LIST_RESTARTS):
            results: dict[str, dict[str, Any]] = {}
            page, first_total = 1, None
            while True:
                params: dict[str, Any] = {"page": page, "pageSize": page_size}
                if tags:
                    params["tags"] = tags
                body = await self._json("GET", "/companies", params=params)
                batch, total = _page(body, len(results))
                results.update((str(c["id"]), c) for c in batch)
                first_total = total if first_total is None else first_total
                if total != first_total or not batch or page * page_size >= total:
                    break
                page += 1
            if total == first_total:
                return list(results.values())
        raise CodatError(
            "the list of companies kept changing while it was read; try again when Codat is quieter"
        )

    async def get_company(self, company_id: str) -> dict[str, Any]:
        return await self._json("GET", f"/companies/{company_id}")

    async def create_company(
        self, body: dict[str, Any], *, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        return await self._json("POST", "/companies", json=body, idempotency_key=idempotency_key)

    async def replace_company(self, company_id: str, body: dict[str, Any]) -> dict[str, Any]:
        return await self._json("PUT", f"/companies/{company_id}", json=body)

    async def delete_company(self, company_id: str) -> None:
        await self.request("DELETE", f"/companies/{company_id}")

    # ------------------------------------------------------------------ connections

    async def create_connection(
        self, company_id: str, platform_key: str, *, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        return await self._json(
            "POST",
            f"/companies/{company_id}/connections",
            json={"platformKey": platform_key},
            idempotency_key=idempotency_key,
        )

    async def unlink_connection(
        self, company_id: str, connection_id: str, *, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        return await self._json(
            "PATCH",
            f"/companies/{company_id}/connections/{connection_id}",
            json={"status": "Unlinked"},
            idempotency_key=idempotency_key,
        )

    async def get_connection(self, company_id: str, connection_id: str) -> dict[str, Any]:
        return await self._json("GET", f"/companies/{company_id}/connections/{connection_id}")

    async def delete_connection(self, company_id: str, connection_id: str) -> None:
        await self.request("DELETE", f"/companies/{company_id}/connections/{connection_id}")

    async def create_partner_expense_connection(
        self, company_id: str, *, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        return await self._json(
            "POST",
            f"/companies/{company_id}/sync/expenses/connections/partnerExpense",
            idempotency_key=idempotency_key,
        )

    # ------------------------------------------------------------------ expense config

    async def get_expense_config(self, company_id: str) -> dict[str, Any] | None:
        try:
            return await self._json("GET", f"/companies/{company_id}/sync/expenses/config")
        except CodatHTTPError as exc:
            if exc.status == 404:
                return None
            raise

    async def set_expense_config(
        self, company_id: str, body: dict[str, Any], *, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        return await self._json(
            "POST",
            f"/companies/{company_id}/sync/expenses/config",
            json=body,
            idempotency_key=idempotency_key,
        )


def _page(body: dict[str, Any], seen: int) -> tuple[list[dict[str, Any]], int]:
    """The results and total of a page, or a typed error if it is not shaped like one."""
    batch = body.get("results") or []
    total = body.get("totalResults", seen + len(batch))
    if (
        not isinstance(batch, list)
        or not all(isinstance(c, dict) and "id" in c for c in batch)
        or not isinstance(total, int)
    ):
        raise CodatError("GET /companies: the answer is not a page of companies")
    return batch, total


def _json_or_none(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return None
