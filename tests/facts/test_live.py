"""Facts: what the live read costs and finds, through the real client and the sandbox.

Reads count against Codat's daily quota, so the identity check before creates is measured in
requests: nothing in steady state, one filtered read per create when they are few, one read of
the account when they are many, at most one request more than the cheaper way.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from reconcile.codat import ClientSettings, CodatClient
from reconcile.facts.fleet import read_live
from reconcile.model import OWNER_TAG, UID_TAG, Customer, DesiredState
from reconcile.sandbox.app import create_app
from reconcile.sandbox.options import SandboxOptions
from reconcile.sandbox.store import Store

OWNER = "live"


def lookup_requests(db: Path, desired: DesiredState) -> tuple[int, dict[str, list[str]]]:
    """Requests the read spends beyond the owner's list, and the uid holders it found."""
    app = create_app(SandboxOptions(db_path=db, daily_quota=10**9))

    async def go() -> tuple[int, dict[str, list[str]]]:
        settings = ClientSettings(base_url="http://127.0.0.1:8765")
        async with CodatClient("k", settings, transport=httpx.ASGITransport(app=app)) as client:
            live = await read_live(client, desired)
            holders = {u: [c.id for c in cs] for u, cs in live.uid_holders.items()}
            return live.requests - 1, holders

    return asyncio.run(go())


def populate(db: Path, unrelated: int, held: dict[str, str | None]) -> dict[str, str]:
    """`unrelated` companies of nobody, plus one company per uid in `held` with that owner tag
    (None: no owner tag). Returns uid -> company id."""
    store = Store(db)
    try:
        store.create_companies((f"Other {i}", None, {}) for i in range(unrelated))
        rows = []
        for uid, owner in held.items():
            tags = {UID_TAG: uid, **({OWNER_TAG: owner} if owner else {})}
            rows.append((f"Held {uid}", None, tags))
        ids = store.create_companies(rows)
        return dict(zip(held, ids, strict=True))
    finally:
        store.close()


def desired(*uids: str) -> DesiredState:
    return DesiredState(OWNER, tuple(Customer(uid=u, name=f"Customer {u}") for u in uids))


def test_steady_state_costs_nothing_more(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    populate(db, 3, {"a": OWNER})
    assert lookup_requests(db, desired("a")) == (0, {})


def test_one_create_is_one_filtered_read_and_finds_any_owner(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    ids = populate(db, 3, {"a": None, "b": "someone-else"})
    assert lookup_requests(db, desired("a")) == (1, {"a": [ids["a"]]})
    assert lookup_requests(db, desired("b")) == (1, {"b": [ids["b"]]})


@pytest.mark.usefixtures("page_paths")  # on both ways a page is read
def test_many_creates_in_a_small_account_read_its_one_page(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    ids = populate(db, 20, {"c": None})
    assert lookup_requests(db, desired("a", "b", "c", "d")) == (1, {"c": [ids["c"]]})


@pytest.mark.slow
def test_large_account_takes_the_cheaper_way(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    ids = populate(db, 11_000, {"c": None})  # three pages of 5,000
    # Two creates: the first page tells the size, two filtered reads beat two more pages.
    assert lookup_requests(db, desired("a", "c")) == (3, {"c": [ids["c"]]})
    # Five creates: the first page and the two others beat five filtered reads.
    assert lookup_requests(db, desired("a", "b", "c", "d", "e")) == (3, {"c": [ids["c"]]})
