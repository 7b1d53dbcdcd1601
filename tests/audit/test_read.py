"""SnapshotClient: one read of the account, then the planner's own reads answered from it."""

from __future__ import annotations

import asyncio

import httpx

from reconcile.codat import ClientSettings
from reconcile.facts.holders import read_uid_holders
from reconcile.facts.snapshot import SnapshotClient, read_for_audit
from reconcile.model import Customer, DesiredState


def wire(n: int, tags: dict[str, str]) -> dict[str, object]:
    return {
        "id": f"00000000-0000-4000-8000-{n:012d}",
        "name": f"Company {n}",
        "tags": tags,
        "dataConnections": [],
    }


ACCOUNT = [
    wire(1, {"reconcile.owner": "team", "reconcile.uid": "a"}),
    wire(2, {"reconcile.owner": "other", "reconcile.uid": "b"}),
    wire(3, {"reconcile.uid": "c"}),
    wire(4, {}),
]


def serve(seen: list[httpx.Request]) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        assert request.method == "GET" and request.url.path == "/companies"
        tags = request.url.params.get("tags")
        key, _, value = (tags or "").partition("=")
        results = [c for c in ACCOUNT if tags is None or c["tags"].get(key) == value]  # type: ignore[attr-defined]
        body = {"results": results, "pageNumber": 1, "pageSize": 5000, "totalResults": len(results)}
        return httpx.Response(200, json=body)

    return httpx.MockTransport(handler)


def test_planner_reads_come_from_the_one_list() -> None:
    seen: list[httpx.Request] = []
    desired = DesiredState("team", (Customer("a", "A"), Customer("b", "B"), Customer("c", "C")))

    async def go() -> None:
        settings = ClientSettings(base_url="http://127.0.0.1:1")
        async with SnapshotClient("k", settings, transport=serve(seen)) as client:
            read = await read_for_audit(client, desired)
            assert {c.id for c in read.companies} == {str(c["id"]) for c in ACCOUNT}
            assert [c.uid for c in read.live.companies] == ["a"]  # what plan sees: the owner's
            many = [f"u{n}" for n in range(50)] + ["b", "c"]
            holders = await read_uid_holders(client, "team", many, 1)
            assert sorted(holders) == ["b", "c"]

    asyncio.run(go())
    assert [r.url.params.get("tags") for r in seen] == [None]  # one request in all
