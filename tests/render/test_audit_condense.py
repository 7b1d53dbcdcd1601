"""The audit at fleet size, on models: text names a few per kind and counts the rest, the
awaiting list is counted by age with its oldest named, Markdown keeps every person-level
finding (grouped by what they share), and `verbose` shows everything."""

from __future__ import annotations

from reconcile.audit.model import Audit, Finding, FindingKind
from reconcile.escape import markdown
from reconcile.render.audit_condense import age_counts, gist, groups
from reconcile.render.audit_markdown import render_audit_markdown
from reconcile.render.audit_text import render_audit_text

DAY = 86_400


def awaiting(i: int) -> Finding:
    return Finding(
        FindingKind.AWAITING_AUTHORIZATION,
        f"cus-{i:03d}",
        f"Customer {i}",
        f"c{i:03d}",
        f"Xero (gbol): awaiting customer authorization for {i} days",
        since=f"2026-11-{30 - i % 28:02d}T00:00:00Z",
        facts={"subject": "Xero (gbol)", "age_seconds": i * DAY // 4},
    )


def error(i: int) -> Finding:
    return Finding(
        FindingKind.CONNECTION_ERRORS,
        f"err-{i:03d}",
        f"Broken {i}",
        f"e{i:03d}",
        "accounting connection Xero (gbol) (Linked): 401 Unauthorized: token expired",
        facts={"connection_id": f"x{i}"},
    )


def duplicate(i: int) -> Finding:
    ids = [f"d{i:03d}a", f"d{i:03d}b"]
    return Finding(
        FindingKind.DUPLICATES,
        f"dup-{i:03d}",
        f"Twin {i}",
        ids[0],
        f"2 companies carry reconcile.uid=dup-{i:03d}: {ids[0]}, {ids[1]}; a person decides",
        facts={"company_ids": ids},
    )


def fleet_audit() -> Audit:
    found = [duplicate(i) for i in range(15)] + [error(i) for i in range(15)]
    found += [awaiting(i) for i in range(40)]
    return Audit(owner="o", findings=tuple(found))


def test_text_names_a_few_per_kind_and_counts_the_awaiting_by_age() -> None:
    out = render_audit_text(fleet_audit())
    assert out.count("  err-") == 10 and out.count("  dup-") == 10
    assert "... and 5 more findings not shown: `reconcile audit --verbose`" in out
    assert "  by age: under a day 4, 1-3 days 8, 3-7 days 16, 7 days or more 12;" in out
    named = [line for line in out.splitlines() if line.startswith("  cus-")]
    assert len(named) == 5
    assert "... and 35 more findings not shown" in out
    # The control: verbose names every one of them.
    verbose = render_audit_text(fleet_audit(), verbose=True)
    assert verbose.count("  cus-") == 40 and verbose.count("  err-") == 15
    assert "not shown" not in verbose and "by age" not in verbose


def test_markdown_keeps_every_person_level_finding_and_says_what_they_share_once() -> None:
    md = render_audit_markdown(fleet_audit())
    assert md.count("401 Unauthorized: token expired") == 1  # said once for the 15
    for i in range(15):
        assert f"**err\\-{i:03d}** e{i:03d}" in md
        assert f"**dup\\-{i:03d}** d{i:03d}a d{i:03d}b" in md
    assert markdown("2 companies carry reconcile.uid=…: …, …; a person decides") in md
    assert "By age: under a day: 4, 1-3 days: 8" in md
    assert md.count("**cus\\-") == 5


def test_gist_leaves_out_only_the_finding_s_own_names() -> None:
    assert gist(duplicate(7)) == "2 companies carry reconcile.uid=…: …, …; a person decides"
    assert [len(g) for _, g in groups([error(1), error(2), duplicate(1)])] == [2, 1]
    assert age_counts([awaiting(0)]) == [("under a day", 1)]
