"""The watch's view of customers' health, in process: until a full pass reads it the page and
`/status` say why there is none; after, counts by state and the Degraded and At risk rows, with
Codat's free text stripped of ids and Link URLs (a reason may quote Codat's error message) and
the HTML escaped."""

from __future__ import annotations

from datetime import UTC, date, datetime

from reconcile.health.model import Health, HealthState, Reason, ReasonKind
from reconcile.render.html import render_report
from reconcile.watch.health_rows import NOT_READ
from reconcile.watch.passes import PassReport
from reconcile.watch.status import WatchStatus

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
PENDING = "7a2e77e9-4e15-4300-83e1-657b7bf392a4"
HOSTILE = f"connection has an Active error: see https://link.codat.io/company/{PENDING} <b>x</b>"


def test_no_health_until_a_full_pass_reads_it_then_rows_without_ids() -> None:
    status = WatchStatus("team", ("c.yaml",))
    assert status.document()["customer_health"]["counts"] is None
    assert status.view(now=NOW).health_note == NOT_READ
    assert "Not read yet: the watch reads customer health" in render_report(status.view(now=NOW))

    status.record(PassReport(company_ids=frozenset({"c-9"})))  # a pass of one company: no read
    assert status.view(now=NOW).customer_health is None

    healths = (
        Health("ok-1", "Fine", "c-1", HealthState.HEALTHY),
        Health(
            "bad-1",
            "Bad <Ltd>",
            "c-2",
            HealthState.AT_RISK,
            (Reason(ReasonKind.CONNECTION_ERROR, HOSTILE, "customer"),),
            deauthorized_on=date(2027, 3, 6),
        ),
    )
    status.record(PassReport(company_ids=None, healths=healths, health_read_at=NOW))
    document = status.document()["customer_health"]
    assert document["counts"] == {"healthy": 1, "degraded": 0, "at_risk": 1}
    [row] = document["customers"]
    assert (row["uid"], row["who"], row["deauthorized_on"]) == ("bad-1", ["customer"], "2027-03-06")
    html = render_report(status.view(now=NOW))
    for shown in (str(document), html):
        assert PENDING not in shown and "link.codat.io" not in shown and "c-2" not in shown
    assert "Bad &lt;Ltd&gt;" in html and "<b>x</b>" not in html
    assert "the customer (re-authorize)" in html and "2027-03-06" in html
