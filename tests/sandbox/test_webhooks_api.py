"""`GET/POST/DELETE /webhooks` as Codat-Platform.json has them, and `sandbox webhooks`, which
shows the signing secrets the API never returns."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import AUTH_HEADERS
from tests.sandbox import conforms, is_error_message
from tests.support.cli import run_sandbox
from tests.support.sandbox_server import serve_sandbox


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    db = tmp_path_factory.mktemp("webhooks-api") / "sandbox.db"
    with serve_sandbox(db) as url:
        yield url, db


@pytest.fixture
def api(served: tuple[str, Path]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=served[0], headers=AUTH_HEADERS, timeout=30) as client:
        yield client
        for consumer in client.get("/webhooks").json()["results"]:
            client.delete(f"/webhooks/{consumer['id']}")


def listed(db: Path) -> list[dict[str, Any]]:
    done = run_sandbox("webhooks", "--db", str(db), "--json", check=True)
    rows: list[dict[str, Any]] = json.loads(done.stdout)
    return rows


def test_create_list_delete_conform(api: httpx.Client, served: tuple[str, Path]) -> None:
    body = {
        "url": "http://127.0.0.1:9/hooks",
        "eventTypes": ["connection.connected", "company.created"],
        "companyTags": ["reconcile.owner:team-a"],
    }
    created = conforms(api.post("/webhooks", json=body), 201)
    assert created["url"] == body["url"]
    assert created["eventTypes"] == body["eventTypes"]
    assert created["companyTags"] == body["companyTags"]
    assert created["disabled"] is False
    assert "secret" not in json.dumps(created).casefold()

    disabled = conforms(
        api.post("/webhooks", json={"url": "http://localhost:9/x", "disabled": True}), 201
    )
    assert disabled["disabled"] is True and disabled["eventTypes"] == []

    results = conforms(api.get("/webhooks"), 200)["results"]
    assert [c["id"] for c in results] == [created["id"], disabled["id"]]
    assert results[0] == created

    assert conforms(api.delete(f"/webhooks/{created['id']}"), 204) is None
    assert [c["id"] for c in conforms(api.get("/webhooks"), 200)["results"]] == [disabled["id"]]
    assert conforms(api.delete(f"/webhooks/{created['id']}"), 404)["statusCode"] == 404
    assert conforms(api.delete("/webhooks/not-a-uuid"), 404)["statusCode"] == 404
    is_error_message(api.get(f"/webhooks/{disabled['id']}"), 405)


def test_secrets_are_shown_by_the_portal_stand_in(
    api: httpx.Client, served: tuple[str, Path]
) -> None:
    first = conforms(api.post("/webhooks", json={"url": "http://127.0.0.1:9/a"}), 201)
    second = conforms(api.post("/webhooks", json={"url": "http://[::1]:9/b"}), 201)
    rows = listed(served[1])
    assert [r["id"] for r in rows] == [first["id"], second["id"]]
    secrets = [r["secret"] for r in rows]
    assert all(s.startswith("whsec_") and len(s) > 30 for s in secrets)
    assert secrets[0] != secrets[1]

    text = run_sandbox("webhooks", "--db", str(served[1]), check=True).stdout
    for row in rows:
        assert row["id"] in text and row["url"] in text and row["secret"] in text


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({}, "url is required"),
        ([], "JSON object"),
        ({"url": "https://example.com/hooks"}, "loopback URLs only"),
        ({"url": "http://10.0.0.8/hooks"}, "loopback URLs only"),
        ({"url": "ftp://127.0.0.1/hooks"}, "absolute http or https"),
        ({"url": "/relative"}, "absolute http or https"),
        ({"url": "http://127.0.0.1:99999/x"}, "not a valid URL"),
        ({"url": "http://127.0.0.1/x", "eventTypes": "company.created"}, "array"),
        ({"url": "http://127.0.0.1/x", "eventTypes": [""]}, "array"),
        ({"url": "http://127.0.0.1/x", "companyTags": ["no-colon"]}, "tagKey:tagValue"),
        ({"url": "http://127.0.0.1/x", "companyTags": [":v"]}, "tagKey:tagValue"),
        ({"url": "http://127.0.0.1/x", "companyTags": ["k:" + "v" * 127]}, "128"),
        ({"url": "http://127.0.0.1/x", "companyTags": [f"k:{i}" for i in range(11)]}, "10"),
        ({"url": "http://127.0.0.1/x", "disabled": "yes"}, "true or false"),
    ],
)
def test_bad_consumers_are_refused(api: httpx.Client, body: Any, says: str) -> None:
    refused = conforms(api.post("/webhooks", json=body), 400)
    assert says in refused["error"], refused
    assert conforms(api.get("/webhooks"), 200)["results"] == []


def test_fifty_consumers_at_most(api: httpx.Client) -> None:
    for i in range(50):
        conforms(api.post("/webhooks", json={"url": f"http://127.0.0.1:9/{i}"}), 201)
    refused = conforms(api.post("/webhooks", json={"url": "http://127.0.0.1:9/x"}), 400)
    assert "limited to 50" in refused["error"]
    assert len(conforms(api.get("/webhooks"), 200)["results"]) == 50


def test_unauthenticated_requests_are_refused(served: tuple[str, Path]) -> None:
    with httpx.Client(base_url=served[0]) as anonymous:
        conforms(anonymous.get("/webhooks"), 401)
        conforms(anonymous.post("/webhooks", json={"url": "http://127.0.0.1:9/"}), 401)


def test_webhooks_command_without_a_state_file(tmp_path: Path) -> None:
    done = run_sandbox("webhooks", "--db", str(tmp_path / "missing.db"))
    assert done.returncode == 1
    assert "no sandbox state at" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "missing.db").exists()


def test_webhooks_command_with_no_consumers(served: tuple[str, Path], api: httpx.Client) -> None:
    assert listed(served[1]) == []
    text = run_sandbox("webhooks", "--db", str(served[1]), check=True).stdout
    assert "no webhook consumers" in text
