"""The sandbox knows a realistic set of integrations, accepted over the API as Codat accepts
them: accounting platforms outside Sync for Expenses, banking and commerce sources."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from reconcile.sandbox.registry import ACCOUNTING_PLATFORMS, OTHER_INTEGRATIONS
from tests.sandbox import conforms, is_error_message
from tests.sandbox.test_contract import send


@pytest.fixture
def company(codat: httpx.Client) -> dict[str, Any]:
    return dict(conforms(send(codat, "POST", "/companies", {"name": "Messy Co"}), 200))


def _connect(codat: httpx.Client, company: dict[str, Any], key: str) -> httpx.Response:
    return send(codat, "POST", f"/companies/{company['id']}/connections", {"platformKey": key})


@pytest.mark.parametrize(
    ("key", "source_type", "name"),
    [
        ("hbql", "Accounting", "Sage 50 (UK)"),
        ("pdvj", "Accounting", "MYOB Business"),
        ("dfxm", "Banking", "Basiq"),
        ("shpf", "Commerce", "Shopify"),
    ],
)
def test_integration_outside_sync_for_expenses_is_accepted(
    codat: httpx.Client, company: dict[str, Any], key: str, source_type: str, name: str
) -> None:
    body = conforms(_connect(codat, company, key), 200)
    assert (body["status"], body["sourceType"], body["platformName"], body["integrationKey"]) == (
        "PendingAuth",
        source_type,
        name,
        key,
    )


def test_banking_and_commerce_sit_beside_an_active_accounting_connection(
    codat: httpx.Client, company: dict[str, Any]
) -> None:
    conforms(_connect(codat, company, "gbol"), 200)
    conforms(_connect(codat, company, "dfxm"), 200)
    conforms(_connect(codat, company, "strp"), 200)
    # Sage 50 is accounting: the one-active-accounting-connection rule still holds.
    is_error_message(_connect(codat, company, "hbql"), 400)
    listed = conforms(codat.get(f"/companies/{company['id']}/connections"), 200)
    assert sorted(c["sourceType"] for c in listed["results"]) == [
        "Accounting",
        "Banking",
        "Commerce",
    ]


def test_registry_is_consistent() -> None:
    assert not set(ACCOUNTING_PLATFORMS) & set(OTHER_INTEGRATIONS)
    source_types = {i.source_type for i in OTHER_INTEGRATIONS.values()}
    assert source_types == {"Accounting", "Banking", "Commerce"}
    ids = [i.integration_id for i in (*ACCOUNTING_PLATFORMS.values(), *OTHER_INTEGRATIONS.values())]
    assert len(ids) == len(set(ids))
