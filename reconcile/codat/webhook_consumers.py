"""The client's webhook consumers (`GET/POST/DELETE /webhooks`, Codat-Platform.json), which
`reconcile watch --register` manages. A mixin of `CodatClient`, kept apart to keep the client
small."""

from __future__ import annotations

from typing import Any, Protocol

from reconcile import paths
from reconcile.codat.consumer_answers import (
    WebhookConsumer,
    parse_webhook_consumer,
    parse_webhook_consumers,
)
from reconcile.codat.wire import Answer


class _Requests(Protocol):
    async def request_json(self, method: str, path: str, *, json: Any = None) -> object: ...

    async def request(self, method: str, path: str) -> Answer: ...


class WebhookConsumers:
    async def list_webhook_consumers(self: _Requests) -> tuple[WebhookConsumer, ...]:
        """`GET /webhooks`: every webhook consumer of the account (Codat allows 50)."""
        path = paths.webhooks()
        return parse_webhook_consumers(await self.request_json("GET", path), f"GET {path}")

    async def create_webhook_consumer(
        self: _Requests, url: str, event_types: list[str], company_tags: list[str] | None
    ) -> WebhookConsumer:
        """`POST /webhooks`. Not retried on an ambiguous failure (Codat takes no idempotency
        key here): the caller lists the consumers again before trying anew."""
        body: dict[str, Any] = {"url": url, "eventTypes": event_types}
        if company_tags is not None:
            body["companyTags"] = company_tags
        path = paths.webhooks()
        answer = await self.request_json("POST", path, json=body)
        return parse_webhook_consumer(answer, f"POST {path}")

    async def delete_webhook_consumer(self: _Requests, consumer_id: str) -> None:
        await self.request("DELETE", paths.webhook(consumer_id))
