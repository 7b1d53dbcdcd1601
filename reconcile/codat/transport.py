"""The client's wires (`reconcile.codat.wire`): which one a client sends through, and the lean
aiohttp one.

`make_wire` picks: an `HttpxWire` over the transport given (the in-process sandbox, tests), an
`HttpxWire` over httpx's own transport when an environment proxy applies (https only: plain
http never uses one), else a `SwitchingWire`: httpx's own transport for a run's first
`SWITCH_AFTER` requests, then `AiohttpWire` for the rest (or httpx's throughout when aiohttp is
not installed); a run that foresees more than that (`CodatClient.foresee`: a plan's expense
config reads, told while its listing is read) moves as soon as aiohttp is imported.

The lean wire sends the URL, headers and body the client built straight to one aiohttp session
and answers with the status, aiohttp's own case-insensitive headers and the body bytes: no httpx
Request or Response per request, whose URL parsing and header objects cost more CPU than aiohttp
itself (issue 27; benchmarks/bench_plan_configs.py, bench_apply_lean.py). aiohttp costs about
0.1 s to import (it builds its SSL contexts at import), as much as about 130 requests save: a
command that sends a few (a one-customer plan, a pull request's plan) never imports it, one that
sends thousands pays it once (benchmarks/bench_startup.py), in a worker thread, while the loop
goes on: a plan imports it while Codat prepares its listing. The TLS context (certifi's bundle,
about 20 ms to load) is built once, on the first https request, and shared by both; over plain
http none is ever loaded.

Every guarantee of the client holds on both:

- no redirect is ever followed (`allow_redirects=False`; httpx does not follow either);
- no proxy from the environment on the lean wire (`trust_env=False`): `make_wire` keeps httpx's
  own transport and its `HTTPS_PROXY` handling whenever an environment proxy applies to an
  https base URL; plain http never goes through a proxy;
- the URL is sent exactly as the client built it (`encoded=True`: a quoted `%2E` or `%2F`
  segment is never normalised), the headers as the client set them: it always sends Accept,
  Accept-Encoding and User-Agent (and Content-Type with a body), so aiohttp adds none of its own
  but Host and Content-Length (asking it to skip its defaults costs a header copy a request);
- the body is read undecoded and decoded here (gzip, deflate: what the client accepts), so the
  answer cap counts the decoded bytes, as httpx's path does;
- TLS verifies against the same CA bundle as httpx (certifi), on both;
- every aiohttp failure becomes the httpx error the client handles: a connection the server
  closed is `httpx.RemoteProtocolError` (a disconnect reported as a disconnect), a refused
  connection `httpx.ConnectError`, a timeout the matching `httpx.TimeoutException`, anything
  else an `httpx.TransportError`, so the client's retries see the same on every wire.
"""

from __future__ import annotations

import asyncio
import importlib.util
import ssl
import urllib.request
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import httpx

from reconcile.codat.wire import Answer, AnswerTooLarge, HttpxWire, Outgoing, Wire, decoded

if TYPE_CHECKING:
    import aiohttp
    from yarl import URL

CHUNK_BYTES = 64 * 1024
MAX_CONNECTIONS = 100  # httpx's default pool size
# Requests sent through httpx's own transport before a run moves to aiohttp (see the docstring).
SWITCH_AFTER = 64


def make_wire(base_url: str, timeout: float, transport: httpx.AsyncBaseTransport | None) -> Wire:
    """The wire a client for `base_url` sends through (see the module's docstring)."""
    https = base_url.startswith("https:")
    if transport is not None or (https and _environment_proxy_for(base_url)):
        return HttpxWire(
            httpx.AsyncClient(
                transport=transport,
                timeout=timeout,
                # Proxies from the environment only for https: over plain http a proxy would
                # read the Authorization header.
                trust_env=https,
            ),
            # httpcore traces its writes; another transport (the in-process sandbox's ASGI,
            # tests' mocks) has no network to wait for
            traced=transport is None or isinstance(transport, httpx.AsyncHTTPTransport),
        )
    return SwitchingWire(timeout)


def _aiohttp_installed() -> bool:
    return importlib.util.find_spec("aiohttp") is not None  # found, not imported


class _TLS:
    """One verifying TLS context (certifi's CA bundle), built on first use."""

    def __init__(self) -> None:
        self._context: ssl.SSLContext | None = None

    def context(self) -> ssl.SSLContext:
        if self._context is None:
            import certifi

            self._context = ssl.create_default_context(cafile=certifi.where())
        return self._context


class SwitchingWire:
    """httpx's own transport for the first `switch_after` requests, `AiohttpWire` for the rest
    (or httpx's throughout when aiohttp is not installed, or fails to import). Both map their
    failures to the same httpx errors, so the client's retries see no difference.

    aiohttp is imported in a worker thread (as aiohttp asks: its import loads certificates), so
    the loop goes on meanwhile: requests past `switch_after` wait for it without holding up the
    answers in flight. `foresee` starts that import early when a run knows it will send more
    than `switch_after` (a plan about to read its expense configs, while its listing is read):
    from the moment aiohttp is ready, every request goes through it; until then, through httpx."""

    def __init__(self, timeout: float, switch_after: int | None = None) -> None:
        self._timeout = timeout
        self._switch_after = SWITCH_AFTER if switch_after is None else switch_after
        self._sent = 0
        self._tls = _TLS()
        self._first: HttpxWire | None = None
        self._lean: AiohttpWire | None = None
        # aiohttp's import once started, in a worker thread: True once it carries the requests.
        self.importing: asyncio.Future[bool] | None = None

    @property
    def lean(self) -> bool:
        """Whether the requests now go through aiohttp."""
        return self._lean is not None

    def foresee(self, requests: int) -> None:
        """About `requests` more are coming: if that takes the run past `switch_after`,
        aiohttp is imported now, in a thread, and carries every request once it is ready."""
        if self._sent + requests > self._switch_after:
            self._import_lean()

    def prepare(self, base_url: str) -> None:
        """httpx's own transport built now (it imports httpcore and anyio), for the first
        requests to `base_url`."""
        if self._lean is None:
            self._httpx(base_url)

    def _import_lean(self) -> None:
        if self.importing is None and _aiohttp_installed():  # asked once
            self.importing = asyncio.get_running_loop().run_in_executor(None, _import_aiohttp)

    async def send(self, out: Outgoing) -> Answer:
        if self._lean is not None:
            return await self._lean.send(out)
        self._sent += 1
        past = self._sent > self._switch_after
        if past:
            self._import_lean()
        importing = self.importing
        # Past the switch a request waits for the import (shielded: one cancelled request
        # cancels no one else's wait); before it, only a finished import moves it.
        if importing is not None and (past or importing.done()) and await asyncio.shield(importing):
            if self._lean is None:
                self._lean = AiohttpWire(self._timeout, self._tls)
            return await self._lean.send(out)
        return await self._httpx(out.url).send(out)

    def _httpx(self, url: str) -> HttpxWire:
        if self._first is None:
            # Plain http never does TLS: a context with no CA loaded (it refuses every
            # certificate) spares loading the bundle; https loads it once, for both wires.
            https = url.startswith("https:")
            verify = self._tls.context() if https else ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            own = httpx.AsyncHTTPTransport(verify=verify)  # httpx's default pool
            self._first = HttpxWire(
                httpx.AsyncClient(transport=own, timeout=self._timeout, trust_env=False),
                traced=True,
            )
        return self._first

    async def aclose(self) -> None:
        first, lean = self._first, self._lean
        self._first = self._lean = None
        if first is not None:
            await first.aclose()
        if lean is not None:
            await lean.aclose()


def _import_aiohttp() -> bool:
    """What the lean wire needs, imported (in a worker thread); False if it cannot be."""
    try:
        import aiohttp  # noqa: F401
        import yarl  # noqa: F401
    except ImportError:  # found but broken: httpx carries on
        return False
    return True


def _environment_proxy_for(url: str) -> bool:
    proxies = urllib.request.getproxies()
    host = urlsplit(url).hostname or ""
    if not (proxies.get("https") or proxies.get("all")):
        return False
    return not urllib.request.proxy_bypass(host)


class AiohttpWire:
    """Requests sent by one aiohttp session (opened on first use, in the running loop)."""

    def __init__(self, timeout: float | None = None, tls: _TLS | None = None) -> None:
        self._session: aiohttp.ClientSession | None = None
        self._url: type[URL]
        self._failures: tuple[type[BaseException], ...] = ()
        self._timeout = timeout
        self._tls = tls or _TLS()

    def _open(self, https: bool) -> aiohttp.ClientSession:
        import aiohttp
        from yarl import URL

        self._url = URL
        self._failures = (aiohttp.ClientError, TimeoutError)

        # Over plain http no TLS context is loaded (one session per wire and base URL).
        connector = aiohttp.TCPConnector(
            limit=MAX_CONNECTIONS, ssl=self._tls.context() if https else True
        )
        each = self._timeout  # as httpx's: per connect, per pool wait, per read
        self._session = aiohttp.ClientSession(
            connector=connector,
            trust_env=False,  # no proxy from the environment (see the module's docstring)
            auto_decompress=False,  # decoded here, so the answer cap counts what is read
            timeout=aiohttp.ClientTimeout(
                total=None, connect=each, sock_connect=each, sock_read=each
            ),
        )
        return self._session

    async def send(self, out: Outgoing) -> Answer:
        session = self._session or self._open(out.url.startswith("https:"))
        if out.written is not None:  # aiohttp does not say per request: handed over counts
            out.written()
        cap = out.cap
        try:
            response = await session.request(
                out.method,
                self._url(out.url, encoded=True),
                headers=out.headers,
                data=out.body,
                allow_redirects=False,
                compress=None,
            )
            try:
                declared = response.content_length
                if declared is not None:
                    if declared > cap:
                        raise AnswerTooLarge(declared)
                    content = await response.read()
                else:
                    content = await _read_within(response, cap)
            finally:
                response.release()
        except self._failures as exc:
            raise _as_httpx_error(exc) from exc
        encoding = response.headers.get("Content-Encoding")
        if encoding:
            content = decoded(content, encoding, cap)
        return Answer(response.status, response.headers, content)

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


async def _read_within(response: aiohttp.ClientResponse, cap: int) -> bytes:
    """A body of no declared length (chunked, or up to the close), at most `cap` bytes."""
    parts: list[bytes] = []
    size = 0
    async for part in response.content.iter_chunked(CHUNK_BYTES):
        size += len(part)
        if size > cap:
            raise AnswerTooLarge(size)
        parts.append(part)
    return b"".join(parts)


def _as_httpx_error(exc: BaseException) -> httpx.TransportError:
    """An aiohttp failure as the httpx exception the client handles (and retries)."""
    import aiohttp

    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return httpx.RemoteProtocolError(f"server disconnected: {exc}")
    if isinstance(exc, aiohttp.ClientPayloadError):  # the connection closed inside the body
        return httpx.RemoteProtocolError(f"incomplete answer: {exc}")
    if isinstance(exc, aiohttp.ServerTimeoutError):
        return httpx.ReadTimeout(str(exc) or "read timed out")
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return httpx.ConnectTimeout(str(exc) or "connect timed out")
    if isinstance(exc, aiohttp.ClientConnectorError):
        return httpx.ConnectError(str(exc))
    if isinstance(exc, aiohttp.ClientOSError):
        return httpx.ReadError(str(exc))
    if isinstance(exc, aiohttp.ClientResponseError):  # a malformed status line or headers
        return httpx.RemoteProtocolError(str(exc))
    if isinstance(exc, aiohttp.ClientError):
        return httpx.TransportError(str(exc))
    return httpx.TimeoutException("timed out")
