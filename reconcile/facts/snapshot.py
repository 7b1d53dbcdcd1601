"""The audit's reads: every company of the account once, then exactly the reads a plan makes.

`SnapshotClient` is the read-only client plus one list of every company (no tag filter, at
`pageSize=5000`: one request per 5,000 companies). The planner's own reader (`read_live`) then
runs on it unchanged: a list filtered on one tag and a company read by id are answered from that
list, so the audit sees exactly what a plan sees and pays only for what a plan pays beyond the
list (expense configs where Linked, and whatever else `read_live` comes to read).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from reconcile import paths
from reconcile.codat.client import MAX_PAGE_SIZE
from reconcile.codat.errors import CodatHTTPError
from reconcile.codat.readonly import ReadOnlyClient
from reconcile.codat.wire import Answer
from reconcile.model import Company, DesiredState, LiveState


class SnapshotClient(ReadOnlyClient):
    """Reads every company once (`snapshot`); later lists on one `key=value` tag condition and
    company reads by id come from that list. Anything else is a real (GET) request."""

    _everything: tuple[Company, ...] | None = None
    _pages: dict[tuple[str, str], Answer] | None = None  # (page, pageSize) -> answer

    async def snapshot(self) -> tuple[Company, ...]:
        if self._everything is None:
            self._pages = {}
            self._everything = tuple(await super().list_companies())
        return self._everything

    async def request(self, method: str, path: str, *args: Any, **kwargs: Any) -> Answer:
        """A page of the whole account (no filter) is read once: the snapshot records each
        answer and later reads of the same page get it again (e.g. the planner's uid lookup)."""
        key = _page_key(method, path, kwargs.get("params"))
        if key is not None and self._pages is not None and key in self._pages:
            return self._pages[key]
        response = await super().request(method, path, *args, **kwargs)
        if key is not None and self._pages is not None and self._everything is None:
            self._pages[key] = response
        return response

    async def list_companies(
        self, tags: str | None = None, *, page_size: int = MAX_PAGE_SIZE, expected: int = 0
    ) -> list[Company]:
        condition = _one_equality(tags)
        if self._everything is None or (tags and condition is None):
            return await super().list_companies(tags, page_size=page_size, expected=expected)
        if condition is None:
            return list(self._everything)
        key, value = condition
        return [c for c in self._everything if c.tags.get(key) == value]

    async def get_company(self, company_id: str) -> Company:
        for company in self._everything or ():
            if company.id == company_id:
                return company
        if self._everything is not None:
            # Not in the list of every company: gone, as Codat would answer.
            raise CodatHTTPError("GET", f"/companies/{company_id}", 404, None)
        return await super().get_company(company_id)


def _page_key(method: str, path: str, params: dict[str, Any] | None) -> tuple[str, str] | None:
    """(page, pageSize) of an unfiltered `GET /companies`, else None."""
    if method != "GET" or path != paths.companies() or not params:
        return None
    if set(params) != {"page", "pageSize"}:
        return None
    return str(params["page"]), str(params["pageSize"])


def _one_equality(tags: str | None) -> tuple[str, str] | None:
    """`key=value` (Codat's tag filter with a single equality), else None."""
    if not tags or "&&" in tags or "||" in tags or "~" in tags or "!=" in tags:
        return None
    key, sep, value = tags.partition("=")
    key, value = key.strip(), value.strip()
    if not sep or not key or "=" in value:
        return None
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1]
    return key, value


@dataclass(frozen=True)
class AuditRead:
    companies: tuple[Company, ...]  # every company of the account
    live: LiveState  # what the planner reads, exactly as plan reads it
    requests: int
    now: datetime  # Codat's clock at the read


async def read_for_audit(client: SnapshotClient, desired: DesiredState) -> AuditRead:
    from reconcile.facts.fleet import read_live

    before = client.requests_sent
    companies = await client.snapshot()
    now = client.server_time or datetime.now(UTC)
    live = await read_live(client, desired)
    return AuditRead(companies, live, client.requests_sent - before, now)


def managed_count(companies: Sequence[Company], owner: str) -> int:
    return sum(1 for c in companies if c.owner == owner)
