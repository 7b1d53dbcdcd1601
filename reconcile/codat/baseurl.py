"""The base URL the client may talk to, and the Authorization header it sends there.

The key never leaves in clear: plain http is allowed only to loopback (and then never through a
proxy from the environment, see `reconcile.codat.client`); a URL holding user info is refused
without echoing it.
"""

from __future__ import annotations

import base64
from urllib.parse import urlsplit

import httpx

from reconcile.codat.errors import ConfigError
from reconcile.loopback import is_loopback

# Codat's own API hosts: the `servers` of Codat's OpenAPI documents (the Platform and Sync for
# Expenses APIs both name https://api.codat.io). A key may go there, or to loopback, unless the
# command line allows another host (`--allow-base-url`).
CODAT_API_URLS = ("https://api.codat.io",)


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


def origin(base_url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of a URL, lowercased with the default port filled in; None when it is
    not an http(s) URL with a host. Where a key goes depends on this, never on the path."""
    try:
        parts = urlsplit(base_url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower().rstrip(".")
    if scheme not in ("http", "https") or not host:
        return None
    return scheme, host, port or (443 if scheme == "https" else 80)


def is_trusted_host(base_url: str, allowed: tuple[str, ...] | frozenset[str] = ()) -> bool:
    """Whether a key may be sent to `base_url`: Codat's own API, loopback, or a URL the command
    line allowed (`allowed`, compared by scheme, host and port)."""
    where = origin(base_url)
    if where is None:
        return False
    if is_loopback(where[1]):
        return True
    return any(where == origin(url) for url in (*CODAT_API_URLS, *allowed))
