"""What every handler reads with: the client, the plan's owner and moment, typed reads."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from reconcile.codat import CodatClient
from reconcile.model import OWNER_TAG, UID_TAG, Company, Connection, ExpenseConfig


@dataclass(frozen=True)
class Done:
    """The wanted state holds: `company_id` is the company the action leaves (for a create,
    the one it made), `detail` how we know."""

    company_id: str | None
    detail: str = ""
    connection: Connection | None = None  # the connection a create made or found


@dataclass(frozen=True)
class Context:
    client: CodatClient
    owner: str
    read_at: datetime | None  # Codat's clock when the plan read live state
    observed: Mapping[str, str]  # company id -> fingerprint of what the plan saw
    absence_recheck_seconds: float = 1.0

    async def company(self, company_id: str) -> Company:
        return await self.client.get_company(company_id)

    async def connection(self, company_id: str, connection_id: str) -> Connection:
        return await self.client.get_connection(company_id, connection_id)

    async def expense_config(self, company_id: str) -> ExpenseConfig | None:
        return await self.client.get_expense_config(company_id)

    async def companies_of(self, uid: str) -> list[Company]:
        """The companies that are surely this owner's company for `uid`: the tag filter is a
        hint, the tags themselves are the proof (exactly this owner, exactly this uid)."""
        found = await self.client.list_companies(
            tags=f"{OWNER_TAG}={self.owner} && {UID_TAG}={uid}"
        )
        return [c for c in found if c.owner == self.owner and c.uid == uid]

    async def pause_before_absent(self) -> None:
        """A lagging tag index may not show a fresh company yet: wait before saying absent."""
        await asyncio.sleep(self.absence_recheck_seconds)
