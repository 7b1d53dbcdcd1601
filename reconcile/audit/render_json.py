"""The audit as a versioned JSON document (docs/audit-json.md, schemas/audit.schema.json)."""

from __future__ import annotations

import json
from typing import Any

from reconcile.audit.duration import format_duration
from reconcile.audit.model import FORMAT_VERSION, KIND_ORDER, Audit, Finding
from reconcile.render.escape import json_text


def audit_to_dict(audit: Audit) -> dict[str, Any]:
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
        "findings": [_finding(f) for f in audit.findings],
        "warnings": list(audit.warnings),
    }


def _finding(finding: Finding) -> dict[str, Any]:
    return {
        "kind": finding.kind.value,
        "uid": finding.uid,
        "name": finding.name,
        "company_id": finding.company_id,
        "detail": finding.detail,
        "since": finding.since,
        "link_url": finding.link_url,
        "facts": dict(finding.facts),
    }


def render_audit_json(audit: Audit) -> str:
    return json_text(json.dumps(audit_to_dict(audit), indent=2, ensure_ascii=False)) + "\n"
