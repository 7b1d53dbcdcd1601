"""The status report's HTML (the watch's page and `audit --format html`): escaped, no script,
headings and tables, links between the overview and each customer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from reconcile.model.onboarding import Onboarding
from reconcile.render.html import render_customer, render_report
from reconcile.render.status_view import CustomerView, Event, StatusView, WaitRow, age

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def _view() -> StatusView:
    hostile = Onboarding(
        "x<1>",
        "<script>alert(1)</script> & Co",
        "awaiting",
        "Xero",
        (NOW - timedelta(days=3, hours=4)).isoformat(),
    )
    done = Onboarding("ok-1", "Fine Ltd", "configured", "Xero")
    wait = WaitRow(
        "customer",
        "x<1>",
        "Evil",
        "authorize",
        "awaiting customer authorization",
        NOW - timedelta(days=3, hours=4),
    )
    return StatusView(
        "Onboarding status",
        "team",
        NOW,
        customers=(
            CustomerView(hostile, (wait,), (Event(NOW, "stage Awaiting authorization"),)),
            CustomerView(done),
        ),
        waiting=(wait,),
        source="watch",
    )


def test_report_is_escaped_accessible_and_linked() -> None:
    html = render_report(_view())
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in html
    assert '<html lang="en">' in html and "<h1>" in html and 'scope="col"' in html
    assert 'href="#customer-x%3C1%3E"' in html and 'id="customer-x%3C1%3E"' in html
    assert "3d 4h" in html
    funnel = _view().funnel()
    assert [(s.label, s.at_stage, s.reached) for s in funnel][1] == ("Awaiting authorization", 1, 2)


def test_customer_page_has_its_timeline_and_a_way_back() -> None:
    view = _view()
    customer = view.customer("x<1>")
    assert customer is not None
    html = render_customer(view, customer, "../")
    assert "<h1>Customer x&lt;1&gt;</h1>" in html
    assert 'href="../"' in html and "stage Awaiting authorization" in html


def test_age() -> None:
    assert age(NOW - timedelta(seconds=40), NOW) == "40s"
    assert age(NOW - timedelta(hours=5, minutes=2), NOW) == "5h 2m"
    assert age(None, NOW) == "" and age("not a time", NOW) == ""
