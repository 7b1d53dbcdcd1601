"""`/webhooks` and `/webhooks/{webhookId}`: Codat's webhook consumers (Codat-Platform.json).

A consumer (`WebhookConsumer`) has a `url`, the `eventTypes` it subscribes to (none: every
event), optional `companyTags` (`key:value`, at most 10 of at most 128 characters; an event goes
out when its company carries any of them) and `disabled`. Codat allows 50 consumers. Each gets a
`whsec_` signing secret that the API never returns: `reconcile sandbox webhooks` prints it, as
Codat's portal shows it. The sandbox refuses (400) a URL that is not loopback: it sends nothing
off this machine. The serving process delivers the events (`webhooks.delivery`).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import Response

from reconcile.sandbox.api.common import call, json_response, path_param, read_json, store_of
from reconcile.sandbox.errors import ApiError, ValidationItem
from reconcile.sandbox.store import NotFound
from reconcile.sandbox.webhooks.store import WebhookStore, url_problem

MAX_CONSUMERS: Final = 50
MAX_COMPANY_TAGS: Final = 10
MAX_COMPANY_TAG_LENGTH: Final = 128
MAX_URL_LENGTH: Final = 2048


def _webhooks(request: Request) -> WebhookStore:
    return WebhookStore(store_of(request))


def _invalid(item: str | None, message: str) -> ApiError:
    return ApiError(
        400, f"Error processing request - {message}.", validation=[ValidationItem(item, message)]
    )


def _strings(body: Mapping[str, Any], name: str) -> list[str] | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise _invalid(name, f"{name} must be an array of non-empty strings")
    return list(value)


def _company_tags(body: Mapping[str, Any]) -> list[str] | None:
    tags = _strings(body, "companyTags")
    if tags is None:
        return None
    if len(tags) > MAX_COMPANY_TAGS:
        raise _invalid("companyTags", f"companyTags holds at most {MAX_COMPANY_TAGS} tags")
    for tag in tags:
        key, colon, _ = tag.partition(":")
        if len(tag) > MAX_COMPANY_TAG_LENGTH:
            raise _invalid(
                "companyTags", f"a company tag is at most {MAX_COMPANY_TAG_LENGTH} characters"
            )
        if not colon or not key:
            raise _invalid("companyTags", "a company tag has the form tagKey:tagValue")
    return tags


def consumer_fields(body: Any) -> tuple[str, list[str], list[str] | None, bool]:
    """The validated (url, eventTypes, companyTags, disabled) of a `webhookConsumerPrototype`."""
    if not isinstance(body, Mapping):
        raise _invalid(None, "the body must be a JSON object")
    url = body.get("url")
    if not isinstance(url, str) or not url.strip():
        raise _invalid("url", "url is required")
    if len(url) > MAX_URL_LENGTH:
        raise _invalid("url", f"url is at most {MAX_URL_LENGTH} characters")
    if (problem := url_problem(url.strip())) is not None:
        raise _invalid("url", problem)
    disabled = body.get("disabled")
    if disabled is not None and not isinstance(disabled, bool):
        raise _invalid("disabled", "disabled must be true or false")
    event_types = _strings(body, "eventTypes") or []
    return url.strip(), event_types, _company_tags(body), bool(disabled)


async def list_consumers(request: Request) -> Response:
    consumers = await call(_webhooks(request).consumers)
    return json_response({"results": [c.to_wire() for c in consumers]})


async def create_consumer(request: Request) -> Response:
    url, event_types, company_tags, disabled = consumer_fields(await read_json(request))
    consumer = await call(
        _webhooks(request).create_consumer,
        url,
        event_types,
        company_tags,
        disabled,
        limit=MAX_CONSUMERS,
    )
    if consumer is None:
        raise ApiError(
            400,
            f"The number of webhook consumers is limited to {MAX_CONSUMERS}; delete an unused"
            " consumer first.",
        )
    return json_response(consumer.to_wire(), 201)


async def delete_consumer(request: Request) -> Response:
    webhook_id = path_param(request, "webhookId")
    try:
        uuid.UUID(webhook_id)
        await call(_webhooks(request).delete_consumer, webhook_id)
    except (ValueError, NotFound):
        raise ApiError(404, f"Webhook consumer {webhook_id} not found.") from None
    return Response(status_code=204)
