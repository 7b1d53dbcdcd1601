"""The client's reads of a company's Sync for Expenses data: its expense config, mapping
options, and one supplier or customer by id (to check a config's ids before it is written).
A mixin of `CodatClient`, kept apart to keep the client small."""

from __future__ import annotations

from typing import Protocol

from reconcile import paths
from reconcile.codat.answers import (
    UnexpectedAnswer,
    parse_expense_config,
    parse_mapping_options,
    parse_record,
)
from reconcile.codat.errors import CodatHTTPError, clean
from reconcile.model import ExpenseConfig, MappingOption, MappingOptions


class _Reads(Protocol):
    async def request_json(self, method: str, path: str) -> object: ...

    async def _record(self, path: str, asked: str, kind: str) -> MappingOption | None: ...


class ExpenseReads:
    async def get_expense_config(self: _Reads, company_id: str) -> ExpenseConfig | None:
        """The company's expense config, or None when it has none (404)."""
        path = paths.expense_config(company_id)
        try:
            body = await self.request_json("GET", path)
        except CodatHTTPError as exc:
            if exc.status == 404:
                return None
            raise
        return parse_expense_config(body, f"GET {path}")

    async def get_mapping_options(self: _Reads, company_id: str) -> MappingOptions:
        path = paths.mapping_options(company_id)
        return parse_mapping_options(await self.request_json("GET", path), f"GET {path}")

    async def get_supplier(self: _Reads, company_id: str, supplier_id: str) -> MappingOption | None:
        """The supplier from the company's accounting data, or None when Codat has none by that
        id (404)."""
        return await self._record(paths.supplier(company_id, supplier_id), supplier_id, "supplier")

    async def get_customer(self: _Reads, company_id: str, customer_id: str) -> MappingOption | None:
        """The customer from the company's accounting data, or None (404)."""
        return await self._record(paths.customer(company_id, customer_id), customer_id, "customer")

    async def _record(self: _Reads, path: str, asked: str, kind: str) -> MappingOption | None:
        where = f"GET {path}"
        try:
            body = await self.request_json("GET", path)
        except CodatHTTPError as exc:
            if exc.status == 404:
                return None
            raise
        record = parse_record(body, where, f"{kind}Name")
        if record.id != asked:
            raise UnexpectedAnswer(where, f"id is {clean(record.id, 60)}, not the {kind} asked for")
        return record
