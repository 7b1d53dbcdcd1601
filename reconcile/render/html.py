"""HTML of the status report: the watch's pages and `audit --format html`, one set of Jinja2
templates (reconcile/render/templates), autoescaped, every printed string through
`reconcile.render.bearer.hide` (no Link URL, no company id). No script, no external asset: readable
without JavaScript, and one static file for a CI artifact.

- `report_context(view, ...)`: the overview (funnel, who waits, customers' health, the watch's
  health, customers). On the watch
  each customer links to its own page; in the static file to its section further down.
- `customer_context(view, customer, ...)`: one customer's page with its timeline.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from reconcile.model.onboarding import STAGE_TEXT
from reconcile.render.bearer import hide
from reconcile.render.status_view import HEALTH_TEXT, WHO_SHORT, CustomerView, StatusView, age

TEMPLATES = Path(__file__).parent / "templates"
REPORT = "report.html.j2"
CUSTOMER = "customer.html.j2"


@cache
def environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=False,
        keep_trailing_newline=True,
        finalize=_shown,
    )


def _shown(value: Any) -> Any:
    """Every string a template prints, without Link URLs or company ids (the last line of
    defence: the views hold none, but Codat's free text may)."""
    return hide(value) if isinstance(value, str) else value


def page_href(uid: str) -> str:
    """Where the watch serves one customer's page."""
    return "customers/" + quote(uid, safe="")


def anchor(uid: str) -> str:
    """The id of one customer's section in the static report."""
    return "customer-" + quote(uid, safe="")


def anchor_href(uid: str) -> str:
    return "#" + anchor(uid)


def _common(view: StatusView) -> dict[str, Any]:
    return {
        "view": view,
        "stage_text": STAGE_TEXT,
        "health_text": HEALTH_TEXT,
        "who_short": WHO_SHORT,
        "age": lambda since: age(since, view.now),
        "health_heading": "The watch's health" if view.source == "watch" else "The read",
        "empty_timeline": (
            "Nothing seen yet."
            if view.source == "watch"
            else "The audit reads Codat once: the watch's status page keeps a timeline."
        ),
    }


def report_context(
    view: StatusView, customer_href: Callable[[str], str], *, inline_customers: bool
) -> dict[str, Any]:
    return {
        **_common(view),
        "customer_href": customer_href,
        "anchor": anchor,
        "inline_customers": inline_customers,
    }


def customer_context(view: StatusView, customer: CustomerView, home_href: str) -> dict[str, Any]:
    return {**_common(view), "customer": customer, "home_href": home_href}


def render_report(view: StatusView) -> str:
    """The whole report as one static file (customers as sections, linked by anchors)."""
    context = report_context(view, anchor_href, inline_customers=True)
    return environment().get_template(REPORT).render(context)


def render_customer(view: StatusView, customer: CustomerView, home_href: str) -> str:
    return environment().get_template(CUSTOMER).render(customer_context(view, customer, home_href))
