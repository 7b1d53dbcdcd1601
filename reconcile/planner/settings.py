"""The account's settings as code (issue 26): what an environment's `settings:` names, diffed
against the account's live sync settings and webhook consumers. Pure. Only what the file names
is managed: other data types keep their settings, other consumers are left alone.

- sync settings: Codat's `POST /profile/syncSettings` replaces the account's whole list, so one
  write carries the live list with the named fields of the named data types changed;
- the webhook consumer, found by its url: missing, it is created; with other event types or
  company tags, it is replaced (Codat has no update of a consumer: delete, then create).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from reconcile import paths
from reconcile.model import AccountSettings, ConsumerWanted
from reconcile.plans import Request
from reconcile.plans.settings import SettingsChange

DEFAULT_SCHEDULE_HOURS = 24


@dataclass(frozen=True)
class LiveConsumer:
    id: str
    url: str
    event_types: tuple[str, ...]
    company_tags: tuple[str, ...] | None


def _sync_change(wanted: AccountSettings, live: Mapping[str, Any]) -> SettingsChange | None:
    settings = [dict(s) for s in live.get("settings") or () if isinstance(s, Mapping)]
    by_type = {s.get("dataType"): s for s in settings}
    lines: list[str] = []
    for want in wanted.sync:
        current = by_type.get(want.data_type)
        if current is None:
            current = {
                "dataType": want.data_type,
                "fetchOnFirstLink": False,
                "syncSchedule": DEFAULT_SCHEDULE_HOURS,
                "syncOrder": max((int(s.get("syncOrder") or 0) for s in settings), default=-1) + 1,
            }
            settings.append(current)
            by_type[want.data_type] = current
            lines.append(f"{want.data_type}: not set in the account yet")
        for field, value in (
            ("fetchOnFirstLink", want.fetch_on_first_link),
            ("syncSchedule", want.sync_schedule),
        ):
            if value is not None and current.get(field) != value:
                lines.append(f"{want.data_type}.{field}: {current.get(field)} -> {value}")
                current[field] = value
    if not lines:
        return None
    body = {
        "clientId": live.get("clientId"),
        "settings": settings,
        "overridesDefaults": bool(live.get("overridesDefaults", True)),
    }
    return SettingsChange(
        "sync settings", "~", tuple(lines), (Request("POST", paths.sync_settings(), body),)
    )


def _same(want: ConsumerWanted, live: LiveConsumer) -> bool:
    tags = None if want.company_tags is None else sorted(want.company_tags)
    live_tags = None if live.company_tags is None else sorted(live.company_tags)
    return sorted(want.event_types) == sorted(live.event_types) and tags == live_tags


def _consumer_change(
    want: ConsumerWanted, consumers: Sequence[LiveConsumer]
) -> SettingsChange | None:
    body: dict[str, Any] = {"url": want.url, "eventTypes": list(want.event_types)}
    if want.company_tags is not None:
        body["companyTags"] = list(want.company_tags)
    create = Request("POST", paths.webhooks(), body)
    mine = [c for c in consumers if c.url == want.url]
    subject = f"webhook consumer {want.url}"
    if not mine:
        return SettingsChange(subject, "+", ("missing: created",), (create,))
    if any(_same(want, c) for c in mine):
        return None
    lines = []
    for live in mine:
        if sorted(live.event_types) != sorted(want.event_types):
            lines.append(
                f"eventTypes: {', '.join(sorted(live.event_types)) or 'none'} ->"
                f" {', '.join(sorted(want.event_types))}"
            )
        if live.company_tags != want.company_tags:
            lines.append(
                f"companyTags: {', '.join(sorted(live.company_tags or ())) or 'every company'}"
                f" -> {', '.join(sorted(want.company_tags or ())) or 'every company'}"
            )
    deletes = tuple(Request("DELETE", paths.webhook(c.id)) for c in mine)
    return SettingsChange(
        subject, "~", (*lines, "replaced (Codat cannot edit one)"), (*deletes, create)
    )


def settings_changes(
    wanted: AccountSettings, live_sync: Mapping[str, Any], consumers: Sequence[LiveConsumer]
) -> tuple[SettingsChange, ...]:
    found = [_sync_change(wanted, live_sync) if wanted.sync else None]
    if wanted.consumer is not None:
        found.append(_consumer_change(wanted.consumer, consumers))
    return tuple(c for c in found if c is not None)
