"""Tests of the sandbox; `conforms` checks a sandbox response against Codat's official specs."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx

from reconcile.model import OWNER_TAG, UID_TAG
from reconcile.sandbox.store import Store
from tests.support.oas import load_spec, response_errors

SPEC_NAMES = ("platform", "expenses")
ERROR_FIELDS = {
    "statusCode",
    "service",
    "error",
    "correlationId",
    "canBeRetried",
    "detailedErrorCode",
}


def _documented_in(spec: str, method: str, path: str) -> bool:
    s = load_spec(spec)
    try:
        template = s.template_for(path)
    except AssertionError:
        return False
    return method.lower() in s.doc["paths"][template]


def body_of(response: httpx.Response) -> Any:
    return response.json() if response.content else None


def conforms(response: httpx.Response, status: int | None = None) -> Any:
    """Assert the status (if given) and that status and body match every spec with the operation.

    Returns the decoded body.
    """
    if status is not None:
        assert response.status_code == status, (response.status_code, response.text)
    method, path = response.request.method, response.request.url.path
    specs = [name for name in SPEC_NAMES if _documented_in(name, method, path)]
    assert specs, f"{method} {path} is in neither spec"
    body = body_of(response)
    if response.status_code >= 400:
        assert set(body) >= ERROR_FIELDS, body
    for spec in specs:
        errors = response_errors(method, path, response.status_code, body, spec)
        assert not errors, f"{spec}: " + "\n".join(errors)
    return body


def is_error_message(response: httpx.Response, status: int) -> dict[str, Any]:
    """For answers the specs do not document (405, 400 on PUT/PATCH company): an ErrorMessage."""
    assert response.status_code == status, (response.status_code, response.text)
    body = response.json()
    validator = load_spec("platform").validator("/components/schemas/ErrorMessage")
    errors = [e.message for e in validator.iter_errors(body)]
    assert not errors, errors
    assert set(body) >= ERROR_FIELDS, body
    assert body["statusCode"] == status
    assert len(body["correlationId"]) == 32
    return dict(body)


def linked_company(
    codat: httpx.Client, db: Path, *, name: str, owner: str, prefix: str, platform: str
) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """A company of `owner` with a unique uid (PREFIX-...) and a Linked `platform` connection,
    made through the API and linked in the sandbox's file: (uid, company, connection)."""
    uid = f"{prefix}-{uuid.uuid4().hex[:10]}"
    tags = {OWNER_TAG: owner, UID_TAG: uid}
    company = conforms(codat.post("/companies", json={"name": name, "tags": tags}), 200)
    path = f"/companies/{company['id']}/connections"
    connection = conforms(codat.post(path, json={"platformKey": platform}), 200)
    store = Store(db)
    try:
        store.set_connection_status(company["id"], connection["id"], "Linked")
    finally:
        store.close()
    return uid, company, connection
