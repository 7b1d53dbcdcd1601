"""The default network path under the httpx client API: httpx's own transport for a run's first
requests, then an aiohttp-backed httpx transport.

httpx stays the client's API (requests, responses, hooks, the in-process sandbox and tests'
transports); past its first `SWITCH_AFTER` requests a run's bytes go through aiohttp, whose C
parser and lighter connection pool cost about half of httpcore's CPU per request (issue 18;
benchmarks/bench_apply_lean.py). aiohttp costs about 0.1 s to import (it builds its SSL contexts
at import), as much as about 130 requests save: a command that sends a few (a one-customer plan,
a pull request's plan) never imports it, one that sends thousands pays it once (issue 27;
benchmarks/bench_startup.py). The TLS context (certifi's bundle, about 20 ms to load) is built
once, on the first https request, and shared by both; over plain http none is ever loaded.

Every guarantee of the client holds:

- no redirect is ever followed (`allow_redirects=False`; httpx does not follow either);
- no proxy from the environment (`trust_env=False`): `lean_transport` returns None, so httpx's
  own transport and its `HTTPS_PROXY` handling are used, whenever an environment proxy applies
  to an https base URL; plain http never goes through a proxy;
- the URL is sent exactly as httpx built it (`encoded=True`: a quoted `%2E` or `%2F` segment is
  never normalised), the headers as httpx set them (aiohttp adds none of its own);
- the body is streamed back undecoded, so httpx decodes it and the client's answer cap counts
  what it reads, as before;
- TLS verifies against the same CA bundle as httpx (certifi), on both transports;
- every aiohttp failure becomes the httpx error a client expects: a connection the server
  closed is `httpx.RemoteProtocolError` (a disconnect reported as a disconnect), a refused
  connection `httpx.ConnectError`, a timeout the matching `httpx.TimeoutException`, anything
  else an `httpx.TransportError`, so the client's retries see what they saw before.
"""

from __future__ import annotations

import importlib.util
import ssl
import urllib.request
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx

if TYPE_CHECKING:
    import aiohttp

CHUNK_BYTES = 64 * 1024
MAX_CONNECTIONS = 100  # httpx's default pool size
# Requests sent through httpx's own transport before a run moves to aiohttp (see the docstring).
SWITCH_AFTER = 64


def lean_transport(base_url: str) -> httpx.AsyncBaseTransport | None:
    """The default transport for `base_url` (`SwitchingTransport`), or None (httpx's own,
    unchanged) when an environment proxy applies (https only: plain http never uses one)."""
    if base_url.startswith("https:") and _environment_proxy_for(base_url):
        return None
    return SwitchingTransport()


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


class SwitchingTransport(httpx.AsyncBaseTransport):
    """httpx's own transport for the first `switch_after` requests, aiohttp's for the rest (or
    httpx's throughout when aiohttp is not installed). Both map their failures to the same httpx
    errors, so the client's retries see no difference."""

    def __init__(self, switch_after: int | None = None) -> None:
        self._switch_after = SWITCH_AFTER if switch_after is None else switch_after
        self._sent = 0
        self._tls = _TLS()
        self._first: httpx.AsyncHTTPTransport | None = None
        self._lean: AiohttpTransport | None = None

    @property
    def lean(self) -> bool:
        """Whether the requests now go through aiohttp."""
        return self._lean is not None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self._sent += 1
        if self._sent == self._switch_after + 1 and _aiohttp_installed():  # asked once
            self._lean = AiohttpTransport(self._tls)
        if self._lean is not None:
            return await self._lean.handle_async_request(request)
        if self._first is None:
            # Plain http never does TLS: a context with no CA loaded (it refuses every
            # certificate) spares loading the bundle; https loads it once, for both transports.
            https = request.url.scheme == "https"
            verify = self._tls.context() if https else ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            self._first = httpx.AsyncHTTPTransport(verify=verify)  # httpx's default pool
        return await self._first.handle_async_request(request)

    async def aclose(self) -> None:
        first, lean = self._first, self._lean
        self._first = self._lean = None
        if first is not None:
            await first.aclose()
        if lean is not None:
            await lean.aclose()


def _environment_proxy_for(url: str) -> bool:
    proxies = urllib.request.getproxies()
    host = urlsplit(url).hostname or ""
    if not (proxies.get("https") or proxies.get("all")):
        return False
    return not urllib.request.proxy_bypass(host)


class _AiohttpStream(httpx.AsyncByteStream):
    """An answer's body as it arrives, in chunks, with aiohttp errors as httpx errors."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _as_httpx_errors():
            async for chunk in self._response.content.iter_chunked(CHUNK_BYTES):
                yield chunk

    async def aclose(self) -> None:
        self._response.release()


class AiohttpTransport(httpx.AsyncBaseTransport):
    """httpx requests sent by one aiohttp session (opened on first use, in the running loop)."""

    def __init__(self, tls: _TLS | None = None) -> None:
        self._session: aiohttp.ClientSession | None = None
        self._tls = tls or _TLS()

    def _open(self, https: bool) -> aiohttp.ClientSession:
        import aiohttp

        # Over plain http no TLS context is loaded (one session per transport and base URL).
        connector = aiohttp.TCPConnector(
            limit=MAX_CONNECTIONS, ssl=self._tls.context() if https else True
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            trust_env=False,  # no proxy from the environment (see the module's docstring)
            auto_decompress=False,  # httpx decodes, so the answer cap counts what it reads
            skip_auto_headers=("User-Agent", "Accept-Encoding", "Content-Type"),
            timeout=aiohttp.ClientTimeout(total=None),
        )
        return self._session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        import aiohttp
        from yarl import URL

        session = self._session or self._open(request.url.scheme == "https")
        timeouts: dict[str, Any] = request.extensions.get("timeout", {})
        body = await request.aread()
        with _as_httpx_errors(request):
            response = await session.request(
                request.method,
                URL(str(request.url), encoded=True),
                headers=[
                    (k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw
                ],
                data=body or None,
                allow_redirects=False,
                compress=None,
                timeout=aiohttp.ClientTimeout(
                    total=None,
                    connect=timeouts.get("pool"),
                    sock_connect=timeouts.get("connect"),
                    sock_read=timeouts.get("read"),
                ),
            )
        return httpx.Response(
            status_code=response.status,
            headers=list(response.raw_headers),
            stream=_AiohttpStream(response),
            extensions={"http_version": b"HTTP/1.1"},
            request=request,
        )

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


@contextmanager
def _as_httpx_errors(request: httpx.Request | None = None) -> Iterator[None]:
    """aiohttp's failures as the httpx exceptions the client handles (and retries)."""
    import aiohttp

    try:
        yield
    except aiohttp.ServerDisconnectedError as exc:
        raise httpx.RemoteProtocolError(f"server disconnected: {exc}", request=request) from exc
    except aiohttp.ClientPayloadError as exc:  # the connection closed inside the body
        raise httpx.RemoteProtocolError(f"incomplete answer: {exc}", request=request) from exc
    except aiohttp.ServerTimeoutError as exc:
        raise httpx.ReadTimeout(str(exc) or "read timed out", request=request) from exc
    except aiohttp.ConnectionTimeoutError as exc:
        raise httpx.ConnectTimeout(str(exc) or "connect timed out", request=request) from exc
    except aiohttp.ClientConnectorError as exc:
        raise httpx.ConnectError(str(exc), request=request) from exc
    except aiohttp.ClientOSError as exc:
        raise httpx.ReadError(str(exc), request=request) from exc
    except aiohttp.ClientResponseError as exc:  # a malformed status line or headers
        raise httpx.RemoteProtocolError(str(exc), request=request) from exc
    except aiohttp.ClientError as exc:
        raise httpx.TransportError(str(exc), request=request) from exc
    except TimeoutError as exc:
        raise httpx.TimeoutException("timed out", request=request) from exc
