"""`watch --register`'s consumer logic against the served sandbox's real /webhooks: it never
changes, doubles or deletes a consumer it did not create, replaces its own, and sends what
Codat-Platform.json describes."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from reconcile.codat import ClientSettings, CodatClient
from reconcile.codat.answers import UnexpectedAnswer
from reconcile.codat.consumer_answers import parse_webhook_consumers
from reconcile.watch.events import EVENT_TYPES
from reconcile.watch.registration import RegistrationError, ensure_consumer, wanted_tags
from tests.conftest import AUTH_HEADERS, TEST_API_KEY
from tests.support.oas import request_errors, response_errors

URL = "http://127.0.0.1:9/webhooks/codat"


def consumers(sandbox_url: str) -> list[dict[str, object]]:
    with httpx.Client(base_url=sandbox_url, headers=AUTH_HEADERS) as client:
        results: list[dict[str, object]] = client.get("/webhooks").json()["results"]
        return [c for c in results if c["url"] == URL]


def register(sandbox_url: str, owner: str, state: Path, url: str = URL) -> list[str]:
    async def go() -> list[str]:
        async with CodatClient(TEST_API_KEY, ClientSettings(base_url=sandbox_url)) as client:
            return await ensure_consumer(client, owner, url, state)

    return asyncio.run(go())


def delete_all(sandbox_url: str) -> None:
    with httpx.Client(base_url=sandbox_url, headers=AUTH_HEADERS) as client:
        for consumer in consumers(sandbox_url):
            client.delete(f"/webhooks/{consumer['id']}")


@pytest.fixture
def clean(sandbox_url: str) -> Iterator[None]:
    """No consumer for URL before or after (the shared sandbox would deliver to it)."""
    delete_all(sandbox_url)
    yield
    delete_all(sandbox_url)


@pytest.mark.usefixtures("clean")
def test_a_foreign_consumer_is_never_changed_doubled_or_deleted(
    sandbox_url: str, tmp_path: Path
) -> None:
    with httpx.Client(base_url=sandbox_url, headers=AUTH_HEADERS) as client:
        body = {"url": URL, "eventTypes": ["company.created"]}
        assert request_errors("POST", "/webhooks", body) == []
        foreign = client.post("/webhooks", json=body).json()
    lines = register(sandbox_url, "reg-owner", tmp_path / "state.json")
    assert (
        len(lines) == 1 and "did not create it" in lines[0] and "connection.connected" in lines[0]
    )
    assert [c["id"] for c in consumers(sandbox_url)] == [foreign["id"]]
    assert not (tmp_path / "state.json").exists()


@pytest.mark.usefixtures("clean")
def test_creates_once_then_keeps_then_replaces_only_its_own(
    sandbox_url: str, tmp_path: Path
) -> None:
    state = tmp_path / "state.json"
    created = register(sandbox_url, "reg-owner", state)
    (mine,) = consumers(sandbox_url)
    assert response_errors("GET", "/webhooks", 200, {"results": [mine]}) == []
    assert mine["eventTypes"] == list(EVENT_TYPES)
    assert mine["companyTags"] == wanted_tags("reg-owner") == ["reconcile.owner:reg-owner"]
    assert any("reconcile sandbox webhooks" in line for line in created)
    assert json.loads(state.read_text())["created"] == [mine["id"]]
    assert state.stat().st_mode & 0o777 == 0o600

    again = register(sandbox_url, "reg-owner", state)
    assert "already sends" in again[0]
    assert [c["id"] for c in consumers(sandbox_url)] == [mine["id"]]

    # Another owner's filter is not covered: its own consumer (made by us) is replaced.
    replaced = register(sandbox_url, "other-owner", state)
    (new,) = consumers(sandbox_url)
    assert new["id"] != mine["id"] and new["companyTags"] == ["reconcile.owner:other-owner"]
    assert any(f"deleted webhook consumer {mine['id']}" in line for line in replaced)


def test_refuses_plain_http_beyond_loopback(sandbox_url: str, tmp_path: Path) -> None:
    with pytest.raises(RegistrationError, match="https://"):
        register(sandbox_url, "reg-owner", tmp_path / "s.json", "http://example.com/webhooks/codat")


def test_a_consumer_answer_is_checked() -> None:
    bad = {"results": [{"id": "not-a-uuid", "url": URL, "eventTypes": []}]}
    with pytest.raises(UnexpectedAnswer, match=r"results\[0\].id should be a UUID"):
        parse_webhook_consumers(bad, "GET /webhooks")
    tags = {
        "results": [
            {
                "id": "8a210b68-6988-11ed-a1eb-0242ac120002",
                "url": URL,
                "eventTypes": ["x"],
                "companyTags": [3],
            }
        ]
    }
    with pytest.raises(UnexpectedAnswer, match=r"companyTags\[0\] should be a string"):
        parse_webhook_consumers(tags, "GET /webhooks")
