"""`audit --since REPORT.json`: which findings are new since an earlier report.

A finding is the same across reports when its `key` is (kind, customer, company and the facts
that say what it is; never its age). The earlier report is an audit JSON document
(docs/audit-json.md); reports of format 1 written before keys existed have none, so everything
counts as new against them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

from reconcile.audit.model import Audit


class ReportError(ValueError):
    """The earlier report cannot be read; the message says why and what to do."""


@dataclass(frozen=True)
class EarlierReport:
    keys: frozenset[str]
    read_at: str | None


def read_report(path: Path) -> EarlierReport:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ReportError(f"--since {path}: cannot read it ({exc.strerror or exc})") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ReportError(
            f"--since {path}: not JSON ({exc}); pass a report written by "
            "`reconcile audit --format json` (or --json-out)"
        ) from None
    if not isinstance(doc, dict) or doc.get("kind") != "audit":
        raise ReportError(
            f"--since {path}: not an audit report; pass a report written by "
            "`reconcile audit --format json` (or --json-out)"
        )
    findings = doc.get("findings")
    if not isinstance(findings, list):
        raise ReportError(f"--since {path}: the report has no findings list")
    keys = frozenset(
        f["key"] for f in findings if isinstance(f, dict) and isinstance(f.get("key"), str)
    )
    read_at = doc.get("read_at")
    return EarlierReport(keys, read_at if isinstance(read_at, str) else None)


def mark_new(audit: Audit, earlier: EarlierReport) -> Audit:
    """The audit with each finding marked new (or not), and how many earlier ones are gone."""
    findings = tuple(replace(f, new=f.key not in earlier.keys) for f in audit.findings)
    current = {f.key for f in findings}
    return replace(
        audit,
        findings=findings,
        since_report=earlier.read_at or "an earlier report",
        resolved=len(earlier.keys - current),
    )
