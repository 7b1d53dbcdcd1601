"""The audit's pure part: findings from desired + live + the real planner; no I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from reconcile.audit import Audit, FindingKind, build_audit
from reconcile.audit.findings import audit_findings, codat_name_key
from reconcile.durations import format_duration, parse_duration
from reconcile.facts.snapshot import AuditRead
from reconcile.model import (
    Company,
    ConnectionError_,
    Customer,
    DesiredState,
    LiveState,
)
from reconcile.planner import make_plan
from reconcile.render.audit_markdown import render_audit_markdown
from reconcile.render.audit_text import render_audit_text
from tests.support.numbered import cid, company, conn

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
OWNER = "team"
CREATED = "2026-11-20T12:00:00Z"


def managed(uid: str) -> dict[str, str]:
    return {"reconcile.owner": OWNER, "reconcile.uid": uid}


def run(customers: list[Customer], companies: list[Company], stale: str = "14d") -> Audit:
    desired = DesiredState(OWNER, tuple(customers))
    live = LiveState(OWNER, tuple(companies), read_at=NOW.isoformat())
    read = AuditRead(tuple(companies), live, requests=1, now=NOW)
    return build_audit(desired, read, stale_after=parse_duration(stale))


def test_connection_errors_only_active_ones_with_code_and_since() -> None:
    active = ConnectionError_("401", "Unauthorized", "token revoked", "2026-11-26T08:00:00Z")
    resolved = ConnectionError_(
        "500", None, "old", "2026-11-01T08:00:00Z", "2026-11-02T08:00:00Z", "Resolved"
    )
    live = company(
        1, "Acme", managed("a"), conn(1, "Linked", errors=(active, resolved), created=CREATED)
    )
    audit = run([Customer("a", "Acme", accounting="gbol")], [live])
    [finding] = audit.of(FindingKind.CONNECTION_ERRORS)
    assert finding.uid == "a" and finding.company_id == cid(1)
    assert finding.since == "2026-11-26T08:00:00Z"
    assert "401 Unauthorized: token revoked" in finding.detail
    assert audit.drift and audit.failing == (FindingKind.CONNECTION_ERRORS,)


def test_awaiting_versus_stale_by_age() -> None:
    fresh = conn(1, "PendingAuth", created=(NOW - timedelta(days=2)).isoformat())
    old = conn(2, "PendingAuth", created=(NOW - timedelta(days=20)).isoformat())
    audit = run(
        [Customer("a", "A", accounting="gbol"), Customer("b", "B", accounting="gbol")],
        [company(1, "A", managed("a"), fresh), company(2, "B", managed("b"), old)],
    )
    [awaiting] = audit.of(FindingKind.AWAITING_AUTHORIZATION)
    [stale] = audit.of(FindingKind.STALE_AUTHORIZATION)
    assert (awaiting.uid, awaiting.facts["age_seconds"]) == ("a", 2 * 86400)
    assert stale.uid == "b" and "20 days (more than 14d)" in stale.detail
    assert stale.link_url == "https://link.example/2"
    assert not run(
        [Customer("b", "B", accounting="gbol")], [company(2, "B", managed("b"), old)], "30d"
    ).drift


def test_changes_are_the_plans_actions_in_its_words() -> None:
    live = company(1, "Old", managed("a"))
    customers = [Customer("a", "New"), Customer("b", "Brand New")]
    audit = run(customers, [live])
    plan = make_plan(DesiredState(OWNER, tuple(customers)), LiveState(OWNER, (live,)))
    found = [(f.uid, f.facts["action"], f.facts["reason"]) for f in audit.of(FindingKind.CHANGES)]
    assert found == [(a.uid, a.kind.value, a.reason) for a in plan.actions]


def test_identity_findings() -> None:
    customers = [
        Customer("dup", "Twin"),
        Customer("alike", "Hooli & Partners"),
        Customer("theirs", "Theirs", id=cid(9)),
    ]
    companies = [
        company(1, "Twin", managed("dup")),
        company(2, "Twin", managed("dup")),
        company(3, "Stray", managed("gone")),
        company(4, "No uid", {"reconcile.owner": OWNER}),
        company(5, "HOOLI & PARTNERS", {}),
        company(6, "Hooli & Partners", {"reconcile.owner": "else", "reconcile.uid": "alike"}),
        company(9, "Theirs", {"reconcile.owner": "else", "reconcile.uid": "t"}),
    ]
    audit = run(customers, companies)
    [dup] = audit.of(FindingKind.DUPLICATES)
    assert dup.facts["company_ids"] == [cid(1), cid(2)]
    assert {(f.uid, f.company_id) for f in audit.of(FindingKind.ORPHANS)} == {
        ("gone", cid(3)),
        (None, cid(4)),
    }
    # Another owner's company is not a look-alike: it has an owner tag.
    assert [f.company_id for f in audit.of(FindingKind.UNMANAGED_LOOKALIKES)] == [cid(5)]
    [foreign] = audit.of(FindingKind.FOREIGN)
    assert foreign.facts == {"company_name": "Theirs", "company_owner": "else"}


def test_targets_limit_every_kind() -> None:
    desired = DesiredState(OWNER, (Customer("a", "A"),))
    companies = (company(1, "Stray", managed("gone")),)
    plan = make_plan(desired, LiveState(OWNER, companies))
    everything = audit_findings(desired, companies, plan, now=NOW, stale_after=timedelta(days=1))
    assert {f.kind for f in everything} == {FindingKind.CHANGES, FindingKind.ORPHANS}
    only_a = audit_findings(
        desired, companies, plan, now=NOW, stale_after=timedelta(days=1), targets=frozenset("a")
    )
    assert {(f.kind, f.uid) for f in only_a} == {(FindingKind.CHANGES, "a")}


def test_codat_name_key_strips_like_codat() -> None:
    assert codat_name_key(" Acme (UK) Ltd ") == codat_name_key("acme uk ltd")


@pytest.mark.parametrize(
    ("text", "seconds"), [("7d", 604800), ("36h", 129600), ("90m", 5400), ("1d12h", 129600)]
)
def test_durations(text: str, seconds: int) -> None:
    assert parse_duration(text).total_seconds() == seconds
    assert parse_duration(format_duration(parse_duration(text))) == parse_duration(text)


@pytest.mark.parametrize("text", ["", "7", "d", "7y", "-1d", "0d", "1.5d"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_markdown_is_capped_dropping_least_urgent_first() -> None:
    customers = [Customer(f"c{n:05d}", f"Customer & {n}") for n in range(3000)]
    strays = [company(n + 1, f"Stray {n}", managed(f"s{n}")) for n in range(2000)]
    audit = run(customers, strays)
    out = render_audit_markdown(audit, limit=20000)
    assert len(out) <= 20000
    # Grouped by who acts (person, review, converge, customer): the last section loses first.
    assert "more changes findings not shown" in out
    assert "**Drift for owner team**" in out
    assert "Stray 1" in out  # the person's findings come first and stay


def test_text_escapes_terminal_controls() -> None:
    audit = run([Customer("a", "Evil")], [company(1, "Evil\x1b]52;c;x\x07", managed("z"))])
    out = render_audit_text(audit)
    assert "\x1b" not in out and "\\x1b" in out


def test_a_transient_429_or_5xx_is_not_a_connection_error() -> None:
    busy = (
        ConnectionError_("429", "Too Many Requests", None, "2026-11-26T08:00:00Z"),
        ConnectionError_("503", "Service Unavailable", None, "2026-11-26T08:00:00Z"),
    )
    live = company(1, "Acme", managed("a"), conn(1, "Linked", errors=busy, created=CREATED))
    audit = run([Customer("a", "Acme", accounting="gbol")], [live])
    assert audit.of(FindingKind.CONNECTION_ERRORS) == ()


def test_a_duplicate_is_counted_once() -> None:
    twins = [company(1, "Twin", managed("a")), company(2, "Twin", managed("a"))]
    audit = run([Customer("a", "Twin")], twins)
    assert len(audit.of(FindingKind.DUPLICATES)) == 1
    assert audit.of(FindingKind.REFUSED) == () and audit.of(FindingKind.CHANGES) == ()
    assert [f.kind.who for f in audit.findings] == ["person"]


def test_finding_keys_ignore_age_but_not_what_changes() -> None:
    def awaiting(now: datetime) -> str:
        live = company(1, "Acme", managed("a"), conn(1, "PendingAuth", created=CREATED))
        desired = DesiredState(OWNER, (Customer("a", "Acme", accounting="gbol"),))
        state = LiveState(OWNER, (live,), read_at=now.isoformat())
        report = build_audit(desired, AuditRead((live,), state, requests=1, now=now))
        [finding] = report.of(FindingKind.AWAITING_AUTHORIZATION)
        return finding.key

    assert awaiting(NOW) == awaiting(NOW + timedelta(hours=5))
    renamed = run([Customer("a", "Acme Ltd")], [company(1, "Acme", managed("a"))])
    other = run([Customer("a", "Acme Group")], [company(1, "Acme", managed("a"))])
    [one], [two] = renamed.of(FindingKind.CHANGES), other.of(FindingKind.CHANGES)
    assert one.key != two.key
    assert one.facts["diff"] == [{"field": "name", "before": "Acme", "after": "Acme Ltd"}]
