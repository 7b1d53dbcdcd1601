"""`/companies` and `/companies/{companyId}`.

Codat's rules kept here: names are stripped of characters outside Codat's name pattern (an
empty result is refused), tag limits (10 tags, keys 1-27 characters, values up to 100), PUT
replaces name/description/tags while PATCH changes only the fields it carries.

Spec gap: the official documents list no 400 for PUT or PATCH /companies/{companyId}, yet a
body Codat cannot accept (no name, bad tags) must be refused; the sandbox answers 400 with the
same ErrorMessage as POST /companies.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import Response

from reconcile.sandbox.api.common import (
    base_url,
    call,
    call_on_company,
    company_not_found,
    json_response,
    listing,
    malformed,
    path_param,
    read_json,
    store_of,
)
from reconcile.sandbox.errors import ApiError, ValidationItem
from reconcile.sandbox.onetime import fresh_links
from reconcile.sandbox.store import COMPANY_FIELDS
from reconcile.sandbox.store.filters import Condition, FilterError, parse_tags

MAX_TAGS: Final = 10
MAX_TAG_KEY: Final = 27
MAX_TAG_VALUE: Final = 100
_NOT_IN_NAME_PATTERN: Final = re.compile(r"[^A-Za-z0-9\s\-',&@.?!]")


def strip_name(name: str) -> str:
    """What Codat keeps of a company name: `Company (Codat[1])` becomes `Company Codat1`."""
    return _NOT_IN_NAME_PATTERN.sub("", name).strip()


def _invalid(items: list[ValidationItem]) -> ApiError:
    return ApiError(400, "Error processing request - not valid.", validation=items)


def _check_tags(tags: Any) -> dict[str, str]:
    if not isinstance(tags, Mapping):
        raise _invalid([ValidationItem("tags", "tags must be an object of strings")])
    problems: list[ValidationItem] = []
    if len(tags) > MAX_TAGS:
        problems.append(ValidationItem("tags", f"a company has at most {MAX_TAGS} tags"))
    for key, value in tags.items():
        if not 1 <= len(key) <= MAX_TAG_KEY:
            problems.append(ValidationItem(key, f"tag keys are 1 to {MAX_TAG_KEY} characters long"))
        if not isinstance(value, str):
            problems.append(ValidationItem(key, "tag values must be strings"))
        elif len(value) > MAX_TAG_VALUE:
            problems.append(
                ValidationItem(key, f"tag values are at most {MAX_TAG_VALUE} characters long")
            )
    if problems:
        raise _invalid(problems)
    return dict(tags)


def company_fields(body: Any, *, require_name: bool) -> dict[str, Any]:
    """The validated, cleaned fields a create or update carries (absent fields left out)."""
    if not isinstance(body, Mapping):
        raise _invalid([ValidationItem(None, "the body must be a JSON object")])
    fields: dict[str, Any] = {}
    if "name" in body or require_name:
        name = body.get("name")
        if not isinstance(name, str):
            raise _invalid([ValidationItem("name", "name is required and must be a string")])
        fields["name"] = strip_name(name)
        if not fields["name"]:
            raise _invalid([ValidationItem("name", "name has no character Codat allows")])
    if "description" in body:
        description = body["description"]
        if description is not None and not isinstance(description, str):
            raise _invalid([ValidationItem("description", "description must be a string")])
        fields["description"] = description
    if "tags" in body:
        fields["tags"] = {} if body["tags"] is None else _check_tags(body["tags"])
    return fields


async def list_companies(request: Request) -> Response:
    async def read(**page: Any) -> tuple[list[Any], int]:
        tags: tuple[Condition, ...] = ()  # checked after the paging, query and order
        if (text := request.query_params.get("tags")) is not None:
            try:
                tags = parse_tags(text)
            except FilterError as exc:
                raise malformed(str(exc)) from None
        return await call(store_of(request).list_companies, tags=tags, **page)

    return await listing(request, COMPANY_FIELDS, read)


async def create_company(request: Request) -> Response:
    fields = company_fields(await read_json(request), require_name=True)
    company = await call(
        store_of(request).create_company,
        fields["name"],
        fields.get("description"),
        fields.get("tags"),
        link_base_url=base_url(request),
    )
    return json_response(await fresh_links(request, company))


async def get_company(request: Request) -> Response:
    company_id = path_param(request, "companyId")
    company = await call(store_of(request).get_company, company_id)
    if company is None:
        raise company_not_found(company_id)
    return json_response(await fresh_links(request, company))


async def replace_company(request: Request) -> Response:
    company_id = path_param(request, "companyId")
    fields = company_fields(await read_json(request), require_name=True)
    fields.setdefault("description", None)
    fields.setdefault("tags", {})
    return await _update(request, company_id, fields)


async def patch_company(request: Request) -> Response:
    company_id = path_param(request, "companyId")
    fields = company_fields(await read_json(request), require_name=False)
    return await _update(request, company_id, fields)


async def _update(request: Request, company_id: str, fields: dict[str, Any]) -> Response:
    company = await call_on_company(
        company_id, store_of(request).update_company, company_id, **fields
    )
    return json_response(company)


async def delete_company(request: Request) -> Response:
    company_id = path_param(request, "companyId")
    if not await call(store_of(request).delete_company, company_id):
        raise company_not_found(company_id)
    return Response(status_code=204)
