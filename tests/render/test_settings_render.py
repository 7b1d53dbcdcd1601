"""A webhook consumer moved to another host is listed under Destructive, in the terminal's
plan and in the pull-request comment; a settings change that moves nothing is not (control)."""

from __future__ import annotations

from reconcile.model import AccountSettings, ConsumerWanted
from reconcile.planner.settings import LiveConsumer, settings_changes
from reconcile.plans import Plan
from reconcile.render.markdown import render_plan_markdown
from reconcile.render.text import render_plan

NEW = "https://new.example.com/webhooks/codat"
WANTED = AccountSettings((), ConsumerWanted(NEW, ("connection.connected",)))


def plan_against(*live: LiveConsumer) -> Plan:
    return Plan(owner="team", settings=settings_changes(WANTED, {}, live))


def test_a_consumer_moved_to_another_host_is_destructive() -> None:
    old = LiveConsumer("wh-1", "https://old.example.com/webhooks/codat", ("x",), None)
    plan = plan_against(old)
    text = render_plan(plan)
    assert "Destructive (1): read these first" in text
    assert "account settings  webhook consumer https://new.example.com/webhooks/codat: host" in text
    assert "old.example.com -> new.example.com" in text
    assert "1 account settings change." in text  # the verdict counts it
    comment = render_plan_markdown(plan)
    assert "Destructive account settings (1)" in comment
    assert r"old\.example\.com \-&gt; new\.example\.com" in comment  # escaped Markdown


def test_a_consumer_on_another_path_or_created_is_not_destructive() -> None:
    other = LiveConsumer("wh-2", "https://old.example.com/hooks", ("x",), None)
    plan = plan_against(other)  # another consumer, left alone: the declared one is created
    [change] = plan.settings
    assert (change.sign, change.destructive) == ("+", False)
    assert "Destructive" not in render_plan(plan)
    assert "Destructive" not in render_plan_markdown(plan)
