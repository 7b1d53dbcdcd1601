"""How the audit stays readable at fleet size (11,600 companies), for text and Markdown alike.

- The awaiting-authorization list (informational, most of a fleet's findings) is counted by
  age, and only its oldest few are named (`--verbose` names them all).
- Any other kind shows its first few findings in text, then how many more and where they are.
- A person-level kind with many findings says what they share once: findings whose words
  differ only by their customer and companies are one group (the shared words, then each
  customer and its companies), so every one of them fits in an issue.

This module describes the Audit it is given and decides nothing: the strings it returns are
raw (the caller escapes them for its output).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from reconcile.audit.model import Finding

# Text: the findings named per kind before "... and N more" (--verbose: all of them).
TEXT_SHOWN = 10
# The awaiting list: how many of the oldest are named.
OLDEST_NAMED = 5
# A person-level kind with more findings than this is grouped by what they share.
GROUP_AT = 10
VERBOSE_HINT = "`reconcile audit --verbose` lists them all (or `--format json`)"

_DAY = 86_400
AGE_BUCKETS: tuple[tuple[int | None, str], ...] = (
    (_DAY, "under a day"),
    (3 * _DAY, "1-3 days"),
    (7 * _DAY, "3-7 days"),
    (None, "7 days or more"),
)


def age_counts(findings: Sequence[Finding]) -> list[tuple[str, int]]:
    """How many findings fall in each age bucket (`facts.age_seconds`), empty buckets left
    out; findings of unknown age last."""
    counts = {label: 0 for _, label in AGE_BUCKETS}
    unknown = 0
    for finding in findings:
        age = finding.facts.get("age_seconds")
        if not isinstance(age, int):
            unknown += 1
            continue
        for upper, label in AGE_BUCKETS:
            if upper is None or age < upper:
                counts[label] += 1
                break
    out = [(label, n) for label, n in counts.items() if n]
    return out + ([("age unknown", unknown)] if unknown else [])


_WHEN = re.compile(r"\d{4}-\d\d-\d\d(?:[T ][\d:.]+(?:Z|[+-]\d\d:?\d\d)?)?")


def oldest(findings: Sequence[Finding], n: int = OLDEST_NAMED) -> list[Finding]:
    """The `n` oldest findings (by `since`; undated last, then uid)."""
    ordered = sorted(findings, key=lambda f: (f.since is None, f.since or "", f.uid or ""))
    return ordered[:n]


def company_ids(finding: Finding) -> list[str]:
    """Every company a finding names: its own, and a duplicate's twins."""
    ids = [finding.company_id] if finding.company_id else []
    twins = finding.facts.get("company_ids")
    if isinstance(twins, list):
        ids += [i for i in twins if isinstance(i, str) and i not in ids]
    return ids


def gist(finding: Finding) -> str:
    """The finding's words with its own customer and companies left out: what it shares with
    the findings of the same kind about other customers."""
    words = finding.detail
    twins = finding.facts.get("twins")
    names = [t.get("name") for t in twins if isinstance(t, dict)] if isinstance(twins, list) else []
    for name in [*company_ids(finding), finding.uid or "", *names]:
        if isinstance(name, str) and name:
            words = words.replace(name, "…")
    return _WHEN.sub("…", words)  # a twin's creation date is its own, not the group's


def groups(findings: Sequence[Finding]) -> list[tuple[str, list[Finding]]]:
    """The findings grouped by `gist`, groups in the order of their first finding."""
    out: dict[str, list[Finding]] = {}
    for finding in findings:
        out.setdefault(gist(finding), []).append(finding)
    return list(out.items())


def more_line(n: int, noun: str = "finding") -> str:
    return f"... and {n} more {noun}{'' if n == 1 else 's'} not shown: {VERBOSE_HINT}"
