"""Async Codat client: Basic auth, verified pagination, retries with backoff, idempotency keys.

It builds each request once (`reconcile.codat.urls`: the URL by concatenation, the query and
JSON body as httpx encodes them) and sends it through one wire (`reconcile.codat.wire`; which
one: `reconcile.codat.transport`), above which everything below happens in one code path.

Retries cover 408, 429, 5xx and connection errors, with exponential backoff and full jitter;
a `Retry-After` header is honoured (each wait capped at `backoff_cap`). A POST or PATCH is only
retried when it carries an `Idempotency-Key` (so a retry replays instead of duplicating); with a
key, a 409 ("the first request with this key is still running") is retried too, until the first
one has answered. A 429 that says the daily quota is used up is not retried: `QuotaExhausted`
(see `reconcile.codat.ratelimit`).

Every attempt, retries included, waits its turn in the pacer (`reconcile.codat.pacing`): at most
`requests_per_minute` started in any minute, and a 429's `Retry-After` holds them all.

Every command has an overall deadline (`ClientSettings.deadline`, the CLI's `--timeout`),
counted from the client's creation: each attempt, and each wait between attempts, must end
before it, else `DeadlineExceeded` (httpx's timeout is per read: a server dripping one byte every
few seconds would otherwise hold a plan forever). Listing companies is capped across all pages
(`max_listed_companies`, `max_listed_bytes`), in proportion to the largest fleet the tool
supports, so endless paging stops with a clear error instead of filling memory.

Every answer the tool reads is checked by `reconcile.codat.answers` and returned as the model's
types; every path is built by `reconcile.paths` (ids quoted as one segment).

The key never leaves in clear: plain http is allowed only to loopback and then never through a
proxy from the environment (`HTTP_PROXY` would receive the Authorization header); https keeps
honouring `HTTPS_PROXY` (the key travels inside TLS, through a CONNECT tunnel).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypedDict, Unpack

import httpx

from reconcile import paths
from reconcile.codat.answers import (
    UnexpectedAnswer,
    decode,
    json_or_none,
    parse_profile,
    shorten,
)
from reconcile.codat.baseurl import basic_auth
from reconcile.codat.baseurl import check_base_url as check_base_url
from reconcile.codat.company_calls import CompanyCalls
from reconcile.codat.errors import (
    CodatHTTPError,
    CodatTransportError,
    ConfigError,
    DeadlineExceeded,
    QuotaExhausted,
    WrongAccount,
)
from reconcile.codat.expense_reads import ExpenseReads
from reconcile.codat.outbox import Outbox
from reconcile.codat.pacing import Pacer
from reconcile.codat.paging import decoded_page, read_all
from reconcile.codat.ratelimit import AnswerClock, retry_after_seconds
from reconcile.codat.transport import make_wire
from reconcile.codat.urls import ACCEPT_ENCODING, encode_json, request_url, url_root
from reconcile.codat.webhook_consumers import WebhookConsumers
from reconcile.codat.wire import Answer, AnswerTooLarge, Outgoing, Wire
from reconcile.model import Company, Profile

DEFAULT_BASE_URL = "https://api.codat.io"
MAX_PAGE_SIZE = 5000
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
RETRYABLE_METHODS = frozenset({"GET", "PUT", "DELETE", "HEAD"})
USER_AGENT = "codat-reconcile"
# The largest fleet the tool supports (customers of one owner; benchmarks/RESULTS.md measures
# plan at this size). A listing may hold twice as many companies (other owners', untagged ones
# for `export --adopt`) at up to 2 KiB each on average (a company is about 1 KiB on the wire).
LARGEST_FLEET = 100_000
MAX_LISTED_COMPANIES = 2 * LARGEST_FLEET
MAX_LISTED_BYTES = MAX_LISTED_COMPANIES * 2048
DEFAULT_DEADLINE = 3600.0
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
    # The Codat account the key must belong to (`GET /profile` name), checked before any other
    # request is sent; `account_label` names where that expectation comes from, for the error.
    expected_account: str | None = None
    account_label: str = "the run"
    # Across all pages of one listing (see LARGEST_FLEET).
    max_listed_companies: int = MAX_LISTED_COMPANIES
    max_listed_bytes: int = MAX_LISTED_BYTES
    # Seconds for everything the client does, from its creation; None: no deadline.
    deadline: float | None = DEFAULT_DEADLINE
    # Requests started in any 60 s (`reconcile.codat.pacing`): None, Codat's 1,000 a minute per
    # IP unless the base URL is loopback (then none); 0, unpaced.
    requests_per_minute: int | None = None


class RequestOptions(TypedDict, total=False):
    """What `CodatClient.request` takes besides the method and path."""

    json: Any
    params: dict[str, Any] | None
    idempotency_key: str | None


class CodatClient(CompanyCalls, ExpenseReads, WebhookConsumers):
    """One Codat tenant. Use as `async with CodatClient(...) as client:`."""

    def __init__(
        self,
        api_key: str,
        settings: ClientSettings | None = None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
        pacer: Pacer | None = None,
    ) -> None:
        if not api_key:
            raise ConfigError("no Codat API key: set CODAT_API_KEY (or use --sandbox)")
        self.settings = settings or ClientSettings()
        self.base_url = check_base_url(self.settings.base_url)
        self.wire: Wire = make_wire(self.base_url, self.settings.timeout, transport)
        self._root = url_root(self.base_url)
        self._headers = {
            "Authorization": basic_auth(api_key),
            "Accept": "application/json",
            "Accept-Encoding": ACCEPT_ENCODING,
            "User-Agent": USER_AGENT,
        }
        self._answer_clock = AnswerClock()
        self._sleep = sleep
        self.pacer = pacer or Pacer.to(self.settings.requests_per_minute, self.base_url, sleep)
        self._rng = rng or random.Random()
        deadline = self.settings.deadline
        self._deadline_at = None if deadline is None else time.monotonic() + deadline
        self.requests_sent = 0
        self.outbox = Outbox()  # requests begun, and those not yet on the network
        self.server_time: datetime | None = None  # from the last response's Date header
        # From the last response's X-Rate-Limit-* headers (None when absent).
        self.rate_limit_limit: int | None = None
        self.rate_limit_remaining: int | None = None
        self.rate_limit_reset: datetime | None = None
        self._account_lock = asyncio.Lock()
        self._account_confirmed = self.settings.expected_account is None

    async def __aenter__(self) -> CodatClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.wire.aclose()

    def foresee(self, requests: int) -> None:
        """About `requests` more requests are coming (a plan's config reads): the wire may get
        ready for that many now (`reconcile.codat.transport.SwitchingWire.foresee`)."""
        self.wire.foresee(requests)

    def prepare(self) -> None:
        """Build now what the first request needs (httpx's transport: httpcore and anyio
        imported), before a run starts CPU work in a thread that would compete with those
        imports for the interpreter (`reconcile.runs.plan.built_while_listing`)."""
        self.wire.prepare(self.base_url)

    # ------------------------------------------------------------------ transport

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> Answer:
        """Send with retries; return the final successful answer or raise a typed error.
        Counted in `outbox` from now until written, failed or answered."""
        written = self.outbox.begin()
        try:
            if not self._account_confirmed and path != paths.profile():
                await self.confirm_account()
            url = request_url(self._root, path, params)
            headers, body = self._headers, None
            if json is not None or idempotency_key:
                headers = dict(headers)
                if idempotency_key:
                    headers["Idempotency-Key"] = idempotency_key
                if json is not None:
                    body = encode_json(json)
                    headers["Content-Type"] = "application/json"
            out = Outgoing(method, url, headers, body, self.settings.max_answer_bytes, written)
            retryable = method in RETRYABLE_METHODS or bool(idempotency_key)
            return await self._send(out, path, retryable, idempotency_key is not None)
        finally:
            written()

    async def _send(self, out: Outgoing, path: str, retryable: bool, keyed: bool) -> Answer:
        """`request`'s attempts: `retryable` after a transport error or 5xx, 409 if `keyed`."""
        attempt = 0
        first_started = time.monotonic()
        while True:
            attempt += 1
            if not await self.pacer.start(self._time_left(out.method, path)):
                raise self._past_deadline(out.method, path, self.pacer.per_window)  # not sent
            started = time.perf_counter()
            try:
                async with asyncio.timeout(self._time_left(out.method, path)):
                    response = await self.wire.send(out)
            except TimeoutError:
                self.requests_sent += 1
                raise self._past_deadline(out.method, path) from None
            except AnswerTooLarge as exc:
                raise UnexpectedAnswer(
                    f"{out.method} {path}",
                    f"the answer is larger than {out.cap:,} bytes ({exc.size:,} or more); not read",
                ) from None
            except httpx.DecodingError as exc:
                self.requests_sent += 1
                raise UnexpectedAnswer(f"{out.method} {path}", f"unreadable body ({exc})") from None
            except httpx.TransportError as exc:
                self.requests_sent += 1
                if out.written is not None:  # not waited for through the backoff
                    out.written()
                if log.isEnabledFor(logging.INFO):
                    elapsed = (time.perf_counter() - started) * 1000
                    log.info("%s %s -> %s (%.0f ms)", out.method, path, type(exc).__name__, elapsed)
                if retryable and attempt < self.settings.max_attempts:
                    await self._wait(self._backoff(attempt, None), out.method, path)
                    continue
                raise CodatTransportError(
                    out.method,
                    path,
                    type(exc).__name__,
                    base_url=self.base_url,
                    attempts=attempt,
                    elapsed=time.monotonic() - first_started,
                ) from None
            self.requests_sent += 1
            status = response.status_code
            if log.isEnabledFor(logging.INFO):
                elapsed = (time.perf_counter() - started) * 1000
                log.info("%s %s -> %d (%.0f ms)", out.method, path, status, elapsed)
            now = self._note_answer(response)
            if 200 <= status < 300:
                return response
            wait = retry_after_seconds(response.headers.get("Retry-After"), now)
            if status == 429:
                self._stop_if_quota_used_up(out.method, path, response, wait, now)
                if wait is not None:  # every attempt of the client waits it out, this one too
                    self.pacer.pause(self._backoff(attempt, wait))
            retry = (status in RETRY_STATUSES and (retryable or status == 429)) or (
                status == 409 and keyed
            )
            if retry and attempt < self.settings.max_attempts:
                if not (status == 429 and wait is not None):  # else the pacer waits
                    await self._wait(self._backoff(attempt, wait), out.method, path)
                continue
            raise CodatHTTPError(out.method, path, status, json_or_none(response.content))

    def restart_deadline(self) -> None:
        """Count the deadline from now (after a person answered a prompt: waiting for them is
        not Codat being slow)."""
        deadline = self.settings.deadline
        self._deadline_at = None if deadline is None else time.monotonic() + deadline

    def _time_left(self, method: str, path: str) -> float | None:
        """Seconds left before the deadline (None: no deadline); past it, `DeadlineExceeded`."""
        if self._deadline_at is None:
            return None
        left = self._deadline_at - time.monotonic()
        if left <= 0:
            raise self._past_deadline(method, path)
        return left

    def _past_deadline(self, method: str, path: str, pace: int | None = None) -> DeadlineExceeded:
        return DeadlineExceeded(method, path, self.settings.deadline or 0.0, pace=pace)

    async def _wait(self, seconds: float, method: str, path: str) -> None:
        """Wait before a retry; a wait that would end past the deadline ends the command now."""
        left = self._time_left(method, path)
        if left is not None and seconds >= left:
            raise self._past_deadline(method, path)
        await self._sleep(seconds)

    async def request_json(
        self, method: str, path: str, **options: Unpack[RequestOptions]
    ) -> object:
        """`request`'s decoded body of a successful answer (None when empty); a body that is not
        JSON is an `UnexpectedAnswer`."""
        response = await self.request(method, path, **options)
        return decode(
            response.content,
            f"{method} {path}",
            status=response.status_code,
            content_type=response.headers.get("Content-Type", ""),
        )

    def _note_answer(self, response: Answer) -> datetime:
        """Codat's clock (the Date header, else ours) and the rate-limit headers."""
        self.server_time, rate = self._answer_clock.read(response.headers)
        self.rate_limit_limit = rate.limit
        self.rate_limit_remaining = rate.least(self.rate_limit_remaining, self.rate_limit_reset)
        self.rate_limit_reset = rate.reset
        return self.server_time

    def _stop_if_quota_used_up(
        self, method: str, path: str, response: Answer, wait: float | None, now: datetime
    ) -> None:
        used_up = self.rate_limit_remaining == 0
        too_long = wait is not None and wait > self.settings.retry_budget
        if not (used_up or too_long):
            return
        resets_at = self.rate_limit_reset
        if resets_at is None and wait is not None:
            resets_at = datetime.fromtimestamp(now.timestamp() + wait, UTC)
        body = json_or_none(response.content)
        raise QuotaExhausted(method, path, body, limit=self.rate_limit_limit, resets_at=resets_at)

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self.settings.backoff_cap)
        ceiling = min(self.settings.backoff_cap, self.settings.backoff_base * 2 ** (attempt - 1))
        return self._rng.uniform(0, ceiling)

    # ------------------------------------------------------------------ typed reads

    async def list_companies(
        self, tags: str | None = None, *, page_size: int = MAX_PAGE_SIZE, expected: int = 0
    ) -> list[Company]:
        """Every company matching the tag filter, verified (`reconcile.codat.paging`), at most
        `max_listed_companies` in `max_listed_bytes`; pages `expected` ones fill asked at once."""
        path = paths.companies()
        where = f"GET {path}"
        read = 0
        cap = self.settings.max_listed_bytes

        async def fetch(page: int) -> object:
            nonlocal read
            params: dict[str, Any] = {"page": page, "pageSize": page_size}
            if tags:
                params["tags"] = tags
            response = await self.request("GET", path, params=params)
            read += len(response.content)
            if read > cap:
                raise UnexpectedAnswer(
                    where,
                    f"the pages hold more than {cap:,} bytes in all ({read:,} by page {page}), "
                    f"more than {self.settings.max_listed_companies:,} companies would; "
                    "nothing is planned from it: is CODAT_BASE_URL right?",
                )
            return decoded_page(response, where)

        return await read_all(
            fetch, page_size, max_companies=self.settings.max_listed_companies, expected=expected
        )

    async def confirm_account(self) -> None:
        """The key's account (`GET /profile`) is the expected one, before anything else is sent:
        a test key in the production job, or the reverse, stops here."""
        async with self._account_lock:
            if self._account_confirmed:
                return
            expected = self.settings.expected_account or ""
            got = (await self.get_profile()).name
            if got != expected:
                raise WrongAccount(shorten(got), shorten(expected), self.settings.account_label)
            self._account_confirmed = True

    @property
    def account_confirmed(self) -> bool:
        """The key's account was checked against `expected_account` (or none is expected)."""
        return self._account_confirmed

    async def get_profile(self) -> Profile:
        """The Codat account this key belongs to (`GET /profile`)."""
        path = paths.profile()
        return parse_profile(await self.request_json("GET", path), f"GET {path}")
