"""The client's supplier and customer reads: found, absent (404), and hostile answers."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from reconcile.codat import ClientSettings, CodatClient, CodatHTTPError, UnexpectedAnswer
from reconcile.model import MappingOption
from tests.support.hostile_server import Reply, Seen, not_found, serve_hostile

COMPANY = "5b1f2a8e-0c3d-4e5f-8a9b-0c1d2e3f4a5b"


def read(
    route: Callable[[Seen], Reply], call: Callable[[CodatClient], Awaitable[MappingOption | None]]
) -> tuple[MappingOption | Exception | None, list[str]]:
    async def go(url: str) -> MappingOption | Exception | None:
        async with CodatClient("k", ClientSettings(base_url=url, max_attempts=1)) as client:
            try:
                return await call(client)
            except (UnexpectedAnswer, CodatHTTPError) as exc:
                return exc

    with serve_hostile(route) as codat:
        got = asyncio.run(go(codat.url))
        return got, [r.path for r in codat.requests]


def supplier(client: CodatClient) -> Awaitable[MappingOption | None]:
    return client.get_supplier(COMPANY, "a/b?c")


def test_found_and_the_id_is_one_quoted_segment() -> None:
    got, paths = read(lambda seen: Reply(200, {"id": "a/b?c", "supplierName": "Kwik"}), supplier)
    assert got == MappingOption("a/b?c", "Kwik")
    assert paths == [f"/companies/{COMPANY}/data/suppliers/a%2Fb%3Fc"]


def test_customer_read() -> None:
    got, paths = read(
        lambda seen: Reply(200, {"id": "140", "customerName": None}),
        lambda client: client.get_customer(COMPANY, "140"),
    )
    assert got == MappingOption("140", "")
    assert paths == [f"/companies/{COMPANY}/data/customers/140"]


def test_absent_is_none() -> None:
    got, _ = read(not_found, supplier)
    assert got is None


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"id": "other", "supplierName": "x"}, "id is other, not the supplier asked for"),
        ({"supplierName": "x"}, "id is missing"),
        ({"id": 7}, "id should be a string"),
        ({"id": ""}, "id should be a non-empty string"),
        ({"id": "a/b?c", "supplierName": ["x"]}, "supplierName should be a string or null"),
        ([1], "the body should be an object"),
    ],
)
def test_hostile_answers_are_refused(body: object, expected: str) -> None:
    got, _ = read(lambda seen: Reply(200, body), supplier)
    assert isinstance(got, UnexpectedAnswer) and expected in str(got), got


def test_other_errors_are_raised() -> None:
    got, _ = read(lambda seen: Reply(403, {"statusCode": 403, "error": "Forbidden"}), supplier)
    assert isinstance(got, CodatHTTPError) and got.status == 403
