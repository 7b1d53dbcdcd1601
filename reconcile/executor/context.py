"""What every handler reads with: the client, the plan's owner and moment, typed reads."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from reconcile.codat import CodatClient
from reconcile.live import company_from_wire, config_from_wire, connection_from_wire
from reconcile.model import OWNER_TAG, UID_TAG, Company, Connection, ExpenseConfig


@dataclass(frozen=True)
class Done:
    """The wanted state holds: `company_id` is the company the action leaves (for a create,
    the one it made), `detail` how we know."""

    company_id: str | None
    detail: str = ""


@dataclass(frozen=True)
class Context:
    client: CodatClient
    owner: str
    read_at: datetime | None  # Codat's clock when the plan read live state
    observed: Mapping[str, str]  # company id -> fingerprint of what the plan saw
    absence_recheck_seconds: float = 1.0

    # The client's reads return typed objects (or, in older clients, wire dicts): either way
    # the handlers see the model.

    async def company(self, company_id: str) -> Company:
        got: object = await self.client.get_company(company_id)
        return got if isinstance(got, Company) else company_from_wire(_mapping(got))

    async def connection(self, company_id: str, connection_id: str) -> Connection:
        got: object = await self.client.get_connection(company_id, connection_id)
        return got if isinstance(got, Connection) else connection_from_wire(_mapping(got))

    async def expense_config(self, company_id: str) -> ExpenseConfig | None:
        got: object = await self.client.get_expense_config(company_id)
        if got is None or isinstance(got, ExpenseConfig):
            return got
        return config_from_wire(_mapping(got))

    async def companies_of(self, uid: str) -> list[Company]:
        """The companies that are surely this owner's company for `uid`: the tag filter is a
        hint, the tags themselves are the proof (exactly this owner, exactly this uid)."""
        found: object = await self.client.list_companies(
            tags=f"{OWNER_TAG}={self.owner} && {UID_TAG}={uid}"
        )
        companies = [
            c if isinstance(c, Company) else company_from_wire(_mapping(c))
            for c in cast(list[object], found)
        ]
        return [c for c in companies if c.owner == self.owner and c.uid == uid]

    async def pause_before_absent(self) -> None:
        """A lagging tag index may not show a fresh company yet: wait before saying absent."""
        await asyncio.sleep(self.absence_recheck_seconds)


def _mapping(value: object) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        from reconcile.codat import CodatError

        raise CodatError(f"unexpected answer from Codat: {type(value).__name__}")
    return cast(Mapping[str, Any], value)
