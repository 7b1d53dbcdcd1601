"""Handlers for the company itself: create, update, delete."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconcile.codat import CodatHTTPError
from reconcile.codat.answers import parse_company
from reconcile.executor.context import Context, Done
from reconcile.executor.handler import (
    CONFIRMED,
    Guard,
    Handler,
    Unresolvable,
    answered,
    created_before_read,
    gone,
)
from reconcile.model import OWNER_TAG, UID_TAG, Company
from reconcile.plans import Action, Kind, fingerprint


class CreateCompany(Handler):
    """Landed when a company carries exactly this owner and this uid; two such companies are
    for a person to resolve. A replay of a company deleted since is sent again."""

    kind = Kind.CREATE_COMPANY
    # Two concurrent applies each resending a refused create could make two companies; a
    # create refused for its body is fixed by a new body, which gets a new key anyway.
    resend_refused = False

    async def landed(
        self, ctx: Context, action: Action, company_id: str | None, *, patient: bool
    ) -> Done | None:
        found = await ctx.companies_of(action.uid)
        if not found and patient:
            await ctx.pause_before_absent()
            found = await ctx.companies_of(action.uid)
        if len(found) > 1:
            ids = ", ".join(c.id for c in found)
            raise Unresolvable(f"companies {ids} all carry {UID_TAG}={action.uid}; resolve by hand")
        return Done(found[0].id, CONFIRMED) if found else None

    def accept(self, action: Action, company_id: str | None, body: Any) -> str | None:
        return answered(action, body, parse_company).id

    async def stale(self, ctx: Context, action: Action, company_id: str | None, body: Any) -> bool:
        if not created_before_read(ctx, body) or company_id is None:
            return False
        company = await ctx.company(company_id)  # 404: deleted since, so stale
        if company.owner != ctx.owner or company.uid != action.uid:
            # Codat replayed an earlier create of a company whose tags were edited since:
            # writing to it would act on a company that is no longer this customer's.
            raise Unresolvable(
                f"Codat replayed an earlier create of company {company.id}, which no longer "
                f"carries {OWNER_TAG}={ctx.owner} and {UID_TAG}={action.uid}; "
                "restore its tags or run plan again"
            )
        return False


class UpdateCompany(Handler):
    """Landed when the company reads as the PUT wrote it (as its `after` shows)."""

    kind = Kind.UPDATE_COMPANY

    async def landed(
        self, ctx: Context, action: Action, company_id: str | None, *, patient: bool
    ) -> Done | None:
        assert company_id is not None
        company = await ctx.company(company_id)
        return Done(company_id, CONFIRMED) if _matches(company, action.after) else None


class DeleteCompany(Handler):
    """Sent only while the company is as the plan saw it; a company already gone is done."""

    kind = Kind.DELETE_COMPANY

    async def guard(self, ctx: Context, action: Action, company_id: str | None) -> Guard:
        assert company_id is not None
        try:
            company = await ctx.company(company_id)
        except CodatHTTPError as exc:
            if gone(exc):
                return Done(company_id, "already gone")
            raise
        return changed_since_plan(ctx, action, company)

    async def landed(
        self, ctx: Context, action: Action, company_id: str | None, *, patient: bool
    ) -> Done | None:
        assert company_id is not None
        try:
            await ctx.company(company_id)
        except CodatHTTPError as exc:
            if gone(exc):
                return Done(company_id, "already gone")
            raise
        return None


def changed_since_plan(ctx: Context, action: Action, company: Company) -> str | None:
    """What differs between the company now and what the plan saw, or None."""
    seen = ctx.observed.get(company.id)
    if seen is not None and seen == fingerprint(company):
        return None
    before = action.before or {}
    changes = [
        f"its {field} changed"
        for field, now in (
            ("name", company.name),
            ("description", company.description or ""),
            ("tags", dict(sorted(company.tags.items()))),
        )
        if field in before and before[field] != now
    ]
    if seen is None and not changes:
        return None  # a plan without fingerprints: name, description and tags are what it saw
    if not changes:
        now = ", ".join(f"{c.id} {c.status}" for c in company.connections) or "none"
        changes = [f"its connections changed (now: {now})"]
    return "; ".join(changes) + " since the plan; not deleted: run plan again"


def _matches(company: Company, body: Mapping[str, Any] | None) -> bool:
    if not isinstance(body, Mapping):
        return False
    return (
        company.name == body.get("name")
        and (company.description or "") == (body.get("description") or "")
        and dict(company.tags) == body.get("tags", dict(company.tags))
    )
