"""The client's calls about one company or connection: reads by id (checked to answer about
the id asked for) and the writes tests and tools use. A mixin of `CodatClient`, kept apart to
keep the client small."""

from __future__ import annotations

from typing import Any, Protocol

from reconcile import paths
from reconcile.codat.answers import UnexpectedAnswer, parse_company, parse_connection
from reconcile.codat.errors import clean
from reconcile.codat.wire import Answer
from reconcile.model import Company, Connection


class _Calls(Protocol):
    async def request(self, method: str, path: str) -> Answer: ...

    async def request_json(
        self, method: str, path: str, *, json: Any = None, idempotency_key: str | None = None
    ) -> object: ...


class CompanyCalls:
    async def get_company(self: _Calls, company_id: str) -> Company:
        path = paths.company(company_id)
        where = f"GET {path}"
        company = parse_company(await self.request_json("GET", path), where)
        _same_id(where, "id", company.id, company_id)
        return company

    async def get_connection(self: _Calls, company_id: str, connection_id: str) -> Connection:
        path = paths.connection(company_id, connection_id)
        where = f"GET {path}"
        connection = parse_connection(await self.request_json("GET", path), where)
        _same_id(where, "id", connection.id, connection_id)
        return connection

    # ------------------------------------------------------------------ writes (tests, tools)

    async def create_company(
        self: _Calls, body: dict[str, Any], *, idempotency_key: str | None = None
    ) -> Company:
        path = paths.companies()
        answer = await self.request_json("POST", path, json=body, idempotency_key=idempotency_key)
        return parse_company(answer, f"POST {path}")

    async def create_connection(
        self: _Calls, company_id: str, platform_key: str, *, idempotency_key: str | None = None
    ) -> Connection:
        path = paths.connections(company_id)
        answer = await self.request_json(
            "POST", path, json={"platformKey": platform_key}, idempotency_key=idempotency_key
        )
        return parse_connection(answer, f"POST {path}")

    async def delete_company(self: _Calls, company_id: str) -> None:
        await self.request("DELETE", paths.company(company_id))


def _same_id(where: str, field: str, got: str, asked: str) -> None:
    """Codat answered about the thing asked for, not another one."""
    if got.casefold() != asked.casefold():
        raise UnexpectedAnswer(where, f"{field} is {got}, not the {clean(asked, 60)} asked for")
