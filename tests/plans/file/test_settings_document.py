"""The account settings' changes in the plan document (pure, no I/O): the planner's changes
survive the JSON round trip, the schema checks them strictly, a change whose requests are not
what it shows is refused as edited, and each is judged on its own against the account now."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from reconcile.model import AccountSettings, ConsumerWanted, SyncWanted
from reconcile.planner.settings import LiveConsumer, settings_changes
from reconcile.plans import Plan, Request
from reconcile.plans.file import structure_problems
from reconcile.plans.file.decode import plan_from_dict
from reconcile.plans.file.settings_staleness import judge_settings
from reconcile.plans.requests import edited_actions
from reconcile.render.plan_json import plan_to_dict

URL = "https://watch.example.com/webhooks/codat"
OLD = "https://old.example.com/webhooks/codat"
EVENTS = ("connection.connected", "connection.disconnected")
LIVE_SYNC = {
    "clientId": "client-1",
    "overridesDefaults": True,
    "settings": [
        {"dataType": "suppliers", "fetchOnFirstLink": False, "syncSchedule": 72, "syncOrder": 0},
        {"dataType": "bills", "fetchOnFirstLink": False, "syncSchedule": 12, "syncOrder": 1},
    ],
}
WANTED = AccountSettings(
    (SyncWanted("suppliers", True, 24), SyncWanted("taxRates", None, 24)),
    ConsumerWanted(URL, EVENTS, ("reconcile.owner:team",)),
)
MOVED = (LiveConsumer("wh-old", OLD, EVENTS, ("reconcile.owner:team",)),)


def planned() -> Plan:
    return Plan(owner="team", settings=settings_changes(WANTED, LIVE_SYNC, MOVED))


def test_the_settings_survive_the_round_trip_and_validate() -> None:
    plan = planned()
    sync, consumer = plan.settings
    assert (sync.kind, consumer.kind, consumer.destructive) == (
        "sync_settings",
        "webhook_consumer",
        True,
    )
    assert consumer.requests == (
        Request("DELETE", "/webhooks/wh-old"),
        Request(
            "POST",
            "/webhooks",
            {"url": URL, "eventTypes": list(EVENTS), "companyTags": ["reconcile.owner:team"]},
        ),
    )
    doc = plan_to_dict(plan)
    assert structure_problems(doc) == []
    back = plan_from_dict(json.loads(json.dumps(doc)))
    assert back.settings == plan.settings
    assert plan_to_dict(back) == doc
    assert edited_actions(back) == []  # control for the edits below
    assert structure_problems(plan_to_dict(Plan(owner="team"))) == []  # none: an empty list


def _edit(doc: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    edited = json.loads(json.dumps(doc))
    node = edited
    for key in path[:-1]:
        node = node[key]
    if value is KeyError:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return edited


@pytest.mark.parametrize(
    ("path", "value", "said"),
    [
        (("settings",), KeyError, "'settings' is a required property"),
        (("settings", 0, "kind"), "profile", "settings/0/kind"),
        (("settings", 1, "sign"), "-", "settings/1/sign"),
        (("settings", 1, "destructive"), "yes", "settings/1/destructive"),
        (("settings", 0, "extra"), 1, "settings/0"),
        (("settings", 0, "requests"), [], "settings/0/requests"),
        (("settings", 1, "requests", 0, "path"), "/companies/x", "settings/1/requests/0/path"),
    ],
)
def test_the_schema_checks_the_settings_strictly(
    path: tuple[Any, ...], value: Any, said: str
) -> None:
    problems = structure_problems(_edit(plan_to_dict(planned()), path, value))
    assert any(said in p for p in problems), problems


def test_a_settings_change_that_sends_other_than_it_shows_is_edited() -> None:
    sync, consumer = planned().settings
    unmarked = replace(consumer, destructive=False)  # a move hidden from Destructive
    assert any("moves a consumer" in e for e in edited_actions(Plan("team", settings=(unmarked,))))
    other = replace(
        consumer,
        requests=(
            consumer.requests[0],
            Request("POST", "/webhooks", {"url": OLD, "eventTypes": ["x"]}),
        ),
    )
    assert any("requests are not" in e for e in edited_actions(Plan("team", settings=(other,))))
    body = json.loads(json.dumps(sync.requests[0].body))
    body["settings"][1]["syncSchedule"] = 1  # bills: a data type the file does not name
    sneaky = replace(sync, requests=(Request("POST", "/profile/syncSettings", body),))
    assert any("sync_settings" in e for e in edited_actions(Plan("team", settings=(sneaky,))))
    assert edited_actions(Plan("team", settings=(sync, consumer))) == []  # control


def test_each_settings_change_is_judged_on_its_own() -> None:
    sync, consumer = planned().settings
    landed = LiveConsumer("wh-new", URL, EVENTS, ("reconcile.owner:team",))
    verdict = judge_settings((sync, consumer), LIVE_SYNC, (landed,))
    assert verdict.landed == (consumer,)  # made by another apply: already applied
    assert verdict.runnable == (sync,) and not verdict.held  # unchanged: made
    drifted = json.loads(json.dumps(LIVE_SYNC))
    drifted["settings"][1]["syncSchedule"] = 6  # an unnamed data type: the write carries it
    verdict = judge_settings((sync, consumer), drifted, MOVED)
    assert verdict.runnable == (consumer,)
    [(held, lines)] = verdict.held
    assert held is sync and lines == ("sync settings: bills syncSchedule 12 -> 6",)
