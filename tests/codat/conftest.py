"""Fixtures of the client's tests."""

from __future__ import annotations

import pytest

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


@pytest.fixture
def no_proxies(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No proxy setting of this machine's (upper or lower case): a test sets its own."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    return monkeypatch


@pytest.fixture(params=["httpx-first", "aiohttp"])
def lean(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> bool:
    """Each guarantee on both of the default wire's paths: httpx's own (a run's first requests)
    and the lean aiohttp wire (from the first request on, here)."""
    from reconcile.codat import transport

    on_aiohttp: bool = request.param == "aiohttp"
    monkeypatch.setattr(transport, "SWITCH_AFTER", 0 if on_aiohttp else 1000)
    return on_aiohttp
