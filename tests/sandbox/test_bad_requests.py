"""Requests that used to make the sandbox answer 500 are Codat's 400 with its ErrorMessage."""

from __future__ import annotations

import httpx
import pytest

from tests.sandbox import is_error_message


@pytest.mark.parametrize("page", [str(10**29), str(2**31), "9" * 5000])
def test_a_page_beyond_int32_is_400(codat: httpx.Client, page: str) -> None:
    is_error_message(codat.get("/companies", params={"page": page}), 400)


def test_the_largest_int32_page_is_an_empty_page(codat: httpx.Client) -> None:
    answer = codat.get("/companies", params={"page": 2**31 - 1, "pageSize": 5000})
    assert answer.status_code == 200 and answer.json()["results"] == []


@pytest.mark.parametrize("path", ["/companies", "/companies/{id}/connections"])
def test_a_deeply_nested_body_is_400(codat: httpx.Client, path: str) -> None:
    company = codat.post("/companies", json={"name": "Nested"}).json()
    body = b"[" * 200_000 + b"]" * 200_000
    answer = codat.post(
        path.format(id=company["id"]), content=body, headers={"Content-Type": "application/json"}
    )
    assert answer.status_code in (400, 404)  # each endpoint's documented bad-body status
    is_error_message(answer, answer.status_code)
    assert "nested too deeply" in answer.json()["error"]
