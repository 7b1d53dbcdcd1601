"""`watch --register URL`: make sure Codat has a webhook consumer for URL (placeholder)."""

from __future__ import annotations

from reconcile.codat import CodatClient


async def ensure_consumer(client: CodatClient, owner: str, url: str) -> list[str]:
    raise NotImplementedError
