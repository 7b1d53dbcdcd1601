"""The audit as a versioned JSON document (docs/audit-json.md, schemas/audit.schema.json).

Link URLs are left out unless the caller asks (`link_urls=True`): anyone who opens one can
authorize that company. So are the ids of the companies awaiting the customer (the findings for
the customer: the id of a company awaiting authorization is a Link URL, `reconcile.render.
bearer`), wherever they appear. The report keeps the other company ids a person acts on
(duplicates, orphans, look-alikes): it is a file for operators (`--json-out`, mode 0600) and the
next run's `--since`, never for a pull request or an issue (the Markdown report is)."""

from __future__ import annotations

import json
from typing import Any

from reconcile.audit.model import FORMAT_VERSION, KIND_ORDER, Audit, Finding
from reconcile.durations import format_duration
from reconcile.escape import json_text
from reconcile.model.who import URGENCY
from reconcile.render.bearer import hide_ids


def audit_to_dict(audit: Audit, *, link_urls: bool = False) -> dict[str, Any]:
    return {
        "format_version": FORMAT_VERSION,
        "kind": "audit",
        "owner": audit.owner,
        "files": list(audit.files),
        "read_at": audit.read_at,
        "drift": audit.drift,
        "fail_on": [k.value for k in KIND_ORDER if k in audit.fail_on],
        "stale_after": format_duration(audit.stale_after),
        "stale_after_seconds": int(audit.stale_after.total_seconds()),
        "customers": audit.customers,
        "companies_read": audit.companies_read,
        "managed_companies": audit.managed,
        "requests": audit.requests,
        "summary": audit.counts(),
        "by_who": {who: len(audit.by_who(who)) for who in URGENCY},
        "since_report": audit.since_report,
        "new": len(audit.new) if audit.since_report is not None else None,
        "resolved": audit.resolved if audit.since_report is not None else None,
        "health": dict(audit.health) if audit.health is not None else None,
        "findings": [_finding(f, link_urls) for f in audit.findings],
        "warnings": list(audit.warnings),
    }


def _finding(finding: Finding, link_urls: bool) -> dict[str, Any]:
    return {
        "kind": finding.kind.value,
        "who": finding.kind.who,
        "key": finding.key,
        "new": finding.new,
        "uid": finding.uid,
        "name": finding.name,
        "company_id": (
            None if finding.kind.who == "customer" and not link_urls else finding.company_id
        ),
        "detail": finding.detail,
        "since": finding.since,
        "link_url": finding.link_url if link_urls else None,
        "facts": dict(finding.facts),
    }


def render_audit_json(audit: Audit, *, link_urls: bool = False) -> str:
    document = json.dumps(audit_to_dict(audit, link_urls=link_urls), indent=2, ensure_ascii=False)
    if not link_urls:
        document = hide_ids(document, awaiting_ids(audit))
    return json_text(document) + "\n"


def awaiting_ids(audit: Audit) -> frozenset[str]:
    """The companies some finding says await the customer (authorization, re-authorization)."""
    return frozenset(f.company_id for f in audit.by_who("customer") if f.company_id)
