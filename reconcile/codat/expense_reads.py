"""The client's reads of a company's Sync for Expenses data: its expense config, mapping
options, and one supplier or customer by id (to check a config's ids before it is written).
A mixin of `CodatClient`, kept apart to keep the client small."""

from __future__ import annotations

from typing import Any, Protocol

from reconcile import paths
from reconcile.codat.answers import (
    UnexpectedAnswer,
    parse_expense_config,
    parse_mapping_options,
    parse_record,
)
from reconcile.codat.errors import CodatHTTPError, clean
from reconcile.model import ExpenseConfig, MappingOption, MappingOptions

# Records a name is resolved against: read in pages of Codat's largest size, at most this many.
RECORD_PAGE_SIZE = 5000
MAX_RECORD_PAGES = 20


class _Reads(Protocol):
    async def request_json(
        self, method: str, path: str, *, params: dict[str, Any] | None = None
    ) -> object: ...

    async def _record(self, path: str, asked: str, kind: str) -> MappingOption | None: ...

    async def _read_unless_404(self, path: str) -> tuple[bool, object]: ...


class ExpenseReads:
    async def get_expense_config(self: _Reads, company_id: str) -> ExpenseConfig | None:
        """The company's expense config, or None when it has none (404)."""
        path = paths.expense_config(company_id)
        found, body = await self._read_unless_404(path)
        return parse_expense_config(body, f"GET {path}") if found else None

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

    async def list_records(self: _Reads, company_id: str, kind: str) -> tuple[MappingOption, ...]:
        """Every supplier (`kind` "supplier") or customer of the company's accounting data, as
        (id, name): what a config's `{name: ...}` is resolved against."""
        path = f"{paths.company(company_id)}/data/{kind}s"
        found: list[MappingOption] = []
        for page in range(1, MAX_RECORD_PAGES + 1):
            params = {"page": page, "pageSize": RECORD_PAGE_SIZE}
            body = await self.request_json("GET", path, params=params)
            where = f"GET {path}"
            results = body.get("results") if isinstance(body, dict) else None
            if not isinstance(results, list):
                raise UnexpectedAnswer(where, "no list of results")
            found.extend(parse_record(r, where, f"{kind}Name") for r in results)
            total = body.get("totalResults") if isinstance(body, dict) else None
            if len(results) < RECORD_PAGE_SIZE or not isinstance(total, int) or len(found) >= total:
                break
        return tuple(found)

    async def _record(self: _Reads, path: str, asked: str, kind: str) -> MappingOption | None:
        where = f"GET {path}"
        found, body = await self._read_unless_404(path)
        if not found:
            return None
        record = parse_record(body, where, f"{kind}Name")
        if record.id != asked:
            raise UnexpectedAnswer(where, f"id is {clean(record.id, 60)}, not the {kind} asked for")
        return record

    async def _read_unless_404(self: _Reads, path: str) -> tuple[bool, object]:
        """(True, the body) of `GET path`, or (False, None) when Codat answers 404: there is no
        such thing. Any other error is raised."""
        try:
            return True, await self.request_json("GET", path)
        except CodatHTTPError as exc:
            if exc.status == 404:
                return False, None
            raise
