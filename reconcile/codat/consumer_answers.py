"""Codat's answers about webhook consumers (`GET/POST /webhooks`), checked like every other
answer (`reconcile.codat.answers`) and returned as a `WebhookConsumer`."""

from __future__ import annotations

from dataclasses import dataclass

from reconcile.codat.answers import _At, _each, _list, _object, _required_str, _uuid


@dataclass(frozen=True)
class WebhookConsumer:
    """A webhook consumer (Codat-Platform.json `WebhookConsumer`): `watch --register` reads
    these. The signing secret is never in an answer (Codat's portal shows it)."""

    id: str
    url: str
    event_types: tuple[str, ...]
    company_tags: tuple[str, ...] | None  # None: every company
    disabled: bool = False


def parse_webhook_consumer(body: object, where: str) -> WebhookConsumer:
    return _webhook_consumer(body, _At(where))


def parse_webhook_consumers(body: object, where: str) -> tuple[WebhookConsumer, ...]:
    """`GET /webhooks`: `{"results": [WebhookConsumer, ...]}`."""
    here = _At(where)
    results = _object(body, here).get("results")
    return _each(
        _list(results, here.key("results"), nullable=True), here.key("results"), _webhook_consumer
    )


def _webhook_consumer(body: object, at: _At) -> WebhookConsumer:
    consumer = _object(body, at)
    disabled = consumer.get("disabled")
    if disabled is not None and not isinstance(disabled, bool):
        at.key("disabled").fail("a boolean or null", disabled)
    tags_value = consumer.get("companyTags")
    tags = None if tags_value is None else _strings(tags_value, at.key("companyTags"))
    return WebhookConsumer(
        id=_uuid(consumer, "id", at),
        url=_required_str(consumer, "url", at),
        event_types=_strings(consumer.get("eventTypes"), at.key("eventTypes")),
        company_tags=tags,
        disabled=bool(disabled),
    )


def _strings(value: object, at: _At) -> tuple[str, ...]:
    items = _list(value, at, nullable=True)
    for i, item in enumerate(items):
        if not isinstance(item, str):
            at.index(i).fail("a string", item)
    return tuple(str(item) for item in items)
