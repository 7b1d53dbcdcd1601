"""The default network path under the httpx client API: an aiohttp-backed httpx transport.

httpx stays the client's API (requests, responses, hooks, the in-process sandbox and tests'
transports); only the bytes on the wire go through aiohttp, whose C parser and lighter connection
pool cost about half of httpcore's CPU per request (issue 18; benchmarks/bench_apply_lean.py).

Every guarantee of the client holds:

- no redirect is ever followed (`allow_redirects=False`; httpx does not follow either);
- no proxy from the environment (`trust_env=False`): `lean_transport` returns None, so httpx's
  own transport and its `HTTPS_PROXY` handling are used, whenever an environment proxy applies
  to an https base URL; plain http never goes through a proxy;
- the URL is sent exactly as httpx built it (`encoded=True`: a quoted `%2E` or `%2F` segment is
  never normalised), the headers as httpx set them (aiohttp adds none of its own);
- the body is streamed back undecoded, so httpx decodes it and the client's answer cap counts
  what it reads, as before;
- TLS verifies against the same CA bundle as httpx (certifi);
- every aiohttp failure becomes the httpx error a client expects: a connection the server
  closed is `httpx.RemoteProtocolError` (a disconnect reported as a disconnect), a refused
  connection `httpx.ConnectError`, a timeout the matching `httpx.TimeoutException`, anything
  else an `httpx.TransportError`, so the client's retries see what they saw before.
"""

from __future__ import annotations

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


def lean_transport(base_url: str) -> httpx.AsyncBaseTransport | None:
    """The aiohttp transport for `base_url`, or None (httpx's own) when aiohttp is not installed
    or an environment proxy applies (https only: plain http never uses one)."""
    if base_url.startswith("https:") and _environment_proxy_for(base_url):
        return None
    try:
        import aiohttp  # noqa: F401  (only the commands that talk to Codat pay for it)
    except ImportError:
        return None
    return AiohttpTransport()


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

    def __init__(self) -> None:
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        import aiohttp
        import certifi

        connector = aiohttp.TCPConnector(
            limit=MAX_CONNECTIONS,
            ssl=ssl.create_default_context(cafile=certifi.where()),
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

        session = self._session or self._open()
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
