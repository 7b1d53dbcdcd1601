"""apply's words (`reconcile.render.apply`): every kind and status said as the plan says it,
never an internal kind name, everything from the file or Codat escaped."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from reconcile.executor import STATUSES, ApplyResult, Outcome, Stop
from reconcile.plans import Action, CustomerChange, Kind, Plan, Request
from reconcile.render.apply import customer_line, describe, render_summary, result_document

SUBJECTS = {
    Kind.CREATE_COMPANY: "company",
    Kind.UPDATE_COMPANY: "company",
    Kind.DELETE_COMPANY: "company",
    Kind.CREATE_CONNECTION: "accounting connection Xero (gbol)",
    Kind.UNLINK_CONNECTION: "accounting connection Xero (gbol)",
    Kind.DELETE_CONNECTION: "accounting connection Xero (gbol)",
    Kind.CREATE_PARTNER_EXPENSE: "partner expense connection",
    Kind.SET_EXPENSE_CONFIG: "expense config",
    Kind.REFRESH_DATA: "data",
}
CID = "095f0000-0000-4000-8000-000000000001"


def action(kind: Kind, subject: str | None = None) -> Action:
    return Action(kind, "cus-1", CID, subject or SUBJECTS[kind], "why", Request("POST", "/x"))


@pytest.mark.parametrize("kind", list(Kind))
@pytest.mark.parametrize("status", STATUSES)
def test_every_kind_and_status_in_the_plans_words(kind: Kind, status: str) -> None:
    words = describe(Outcome(action(kind), status, CID, "because"))  # type: ignore[arg-type]
    assert kind.value not in words and "_" not in words.replace(CID, "")
    assert SUBJECTS[kind] in words


def test_applied_words() -> None:
    created = Outcome(action(Kind.CREATE_COMPANY), "applied", CID)
    assert describe(created) == "created company"  # its id is a Link URL until it is linked
    assert describe(created, show_ids=True) == f"created company {CID}"
    unlinked = Outcome(action(Kind.UNLINK_CONNECTION), "applied", CID, "already unlinked")
    assert describe(unlinked) == "unlinked accounting connection Xero (gbol) (already unlinked)"
    quiet = Outcome(action(Kind.SET_EXPENSE_CONFIG), "applied", CID, "confirmed by re-reading")
    assert describe(quiet) == "set expense config"


def test_codats_words_are_escaped() -> None:
    hostile = action(Kind.UNLINK_CONNECTION, "accounting connection \x1b]52;c;x\x07 (gbol)")
    failed = Outcome(hostile, "failed", CID, "400 Bad\nApply complete", "corr-1")
    words = describe(failed)
    assert "\x1b" not in words and "\n" not in words
    assert words == (
        "failed to unlink accounting connection \\x1b]52;c;x\\x07 (gbol): 400 Bad\\nApply complete"
    )
    change = CustomerChange("cus-1", 'Evil "Co"\n', "offboard", CID, (hostile,))
    assert customer_line(change, [failed]).startswith('cus-1 "Evil \\"Co\\"\\n": failed to')


def test_summary_and_document_of_a_quota_stop() -> None:
    create = action(Kind.CREATE_COMPANY)
    connect = action(Kind.CREATE_CONNECTION)
    plan = Plan("owner", (CustomerChange("cus-1", "One", "create", None, (create, connect)),))
    resets = datetime(2026, 11, 28, tzinfo=UTC)
    result = ApplyResult(
        [Outcome(create, "applied", CID), Outcome(connect, "not_started", CID, "quota")],
        Stop("quota", "Codat's daily quota is used up", 1000, resets),
    )
    summary = render_summary(plan, result).splitlines()
    assert summary[-4] == (
        "Apply stopped: 1 created, 0 updated, 0 unlinked, 0 deleted; "
        "0 failed, 0 refused, 0 skipped, 1 not started."
    )
    assert summary[-3].startswith("Codat's daily quota is used up (1000 requests a day); it ")
    assert summary[-3].endswith("(2026-11-28 00:00 UTC).")
    assert summary[-2:] == ["1 action applied, 1 not started.", "Run apply again after the reset."]
    doc = result_document(plan, result, 1)
    assert doc["status"] == "quota_exhausted"
    assert doc["quota"] == {"limit": 1000, "resets_at": "2026-11-28T00:00:00+00:00"}
    assert doc["customers"][0]["company_id"] is None  # a Link URL: only with --link-urls
    assert result_document(plan, result, 1, link_urls=True)["customers"][0]["company_id"] == CID
    assert [a["status"] for a in doc["customers"][0]["actions"]] == ["applied", "not_started"]


def test_summary_of_a_fail_fast_stop() -> None:
    create = action(Kind.CREATE_COMPANY)
    connect = action(Kind.CREATE_CONNECTION)
    plan = Plan("owner", (CustomerChange("cus-1", "One", "create", None, (create, connect)),))
    result = ApplyResult(
        [
            Outcome(create, "failed", None, "POST /companies: 400 Bad (correlationId c1)", "c1"),
            Outcome(connect, "skipped", None, "--fail-fast: a failure stopped the run"),
        ],
        Stop("fail-fast", "--fail-fast: a failure stopped the run"),
    )
    summary = render_summary(plan, result).splitlines()
    assert summary[0] == "Failed (1):"
    assert summary[1] == (
        '  cus-1 "One": failed to create company: POST /companies: 400 Bad (correlationId c1)'
    )
    assert summary[-1] == "--fail-fast: a failure stopped the run; 1 action skipped."
    assert result_document(plan, result, 1)["status"] == "failed"
