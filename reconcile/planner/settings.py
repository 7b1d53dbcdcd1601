"""The account's settings as code (issue 26): what an environment's `settings:` names, diffed
against the account's live sync settings and webhook consumers. Pure. Only what the file names
is managed: other data types keep their settings, other consumers are left alone.

- sync settings: Codat's `POST /profile/syncSettings` replaces the account's whole list, so one
  write carries the live list with the named fields of the named data types changed;
- the webhook consumer, found by its url: missing, it is created; with other event types or
  company tags, it is replaced (Codat has no update of a consumer: delete, then create);
- missing at its url while a consumer with the same path lives on another host (the watch's
  path is always /webhooks/codat): that consumer moves to the file's host, which sends the
  account's webhooks elsewhere. It is destructive (listed under Destructive) and, as a destroy,
  needs `--max-destroy N` covering the plan's destroys and it (`allow_redirects`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from reconcile.model import AccountSettings, ConsumerWanted
from reconcile.planner.options import PlanOptions
from reconcile.plans import Refusal, SettingsChange, requests

DEFAULT_SCHEDULE_HOURS = 24
SYNC_FIELDS = ("fetchOnFirstLink", "syncSchedule")
# A refused settings change is filed under this uid (a refusal names a customer otherwise).
SETTINGS_UID = "account-settings"


@dataclass(frozen=True)
class LiveConsumer:
    id: str
    url: str
    event_types: tuple[str, ...]
    company_tags: tuple[str, ...] | None

    def seen(self) -> dict[str, Any]:
        """What a plan records of it (a saved plan's `before`)."""
        return {
            "id": self.id,
            "url": self.url,
            "eventTypes": sorted(self.event_types),
            "companyTags": None if self.company_tags is None else sorted(self.company_tags),
        }


def sync_seen(live: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The account's sync settings as a plan records them: one entry per data type, sorted."""
    entries = [dict(s) for s in live.get("settings") or () if isinstance(s, Mapping)]
    return sorted(entries, key=lambda s: str(s.get("dataType")))


def _sync_change(wanted: AccountSettings, live: Mapping[str, Any]) -> SettingsChange | None:
    settings = [dict(s) for s in live.get("settings") or () if isinstance(s, Mapping)]
    by_type = {s.get("dataType"): s for s in settings}
    lines: list[str] = []
    after: dict[str, dict[str, Any]] = {}
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
            if value is None:
                continue
            after.setdefault(want.data_type, {})[field] = value
            if current.get(field) != value:
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
        "sync settings",
        "~",
        tuple(lines),
        (requests.sync_settings(body),),
        kind="sync_settings",
        before={"settings": sync_seen(live)},
        after=after,
    )


def _same(want: ConsumerWanted, live: LiveConsumer) -> bool:
    tags = None if want.company_tags is None else sorted(want.company_tags)
    live_tags = None if live.company_tags is None else sorted(live.company_tags)
    return sorted(want.event_types) == sorted(live.event_types) and tags == live_tags


def consumer_body(want: ConsumerWanted) -> dict[str, Any]:
    body: dict[str, Any] = {"url": want.url, "eventTypes": list(want.event_types)}
    if want.company_tags is not None:
        body["companyTags"] = list(want.company_tags)
    return body


def _where(url: str) -> tuple[str, str]:
    """(origin, path and query) of a consumer's url."""
    try:
        parts = urlsplit(url)
        origin = f"{parts.scheme.lower()}://{(parts.netloc or '').lower()}"
    except ValueError:
        return url, ""
    return origin, parts.path + (f"?{parts.query}" if parts.query else "")


def host_of(url: str) -> str:
    try:
        return urlsplit(url).netloc or url
    except ValueError:
        return url


def moved(want_url: str, consumers: Sequence[LiveConsumer]) -> list[LiveConsumer]:
    """The live consumers `want_url` would move to its host: same path, another origin."""
    origin, path = _where(want_url)
    found = []
    for consumer in consumers:
        other, same_path = _where(consumer.url)
        if same_path == path and other != origin:
            found.append(consumer)
    return found


def _consumer_change(
    want: ConsumerWanted, consumers: Sequence[LiveConsumer]
) -> SettingsChange | None:
    body = consumer_body(want)
    create = requests.create_consumer(body)
    mine = [c for c in consumers if c.url == want.url]
    subject = f"webhook consumer {want.url}"
    if not mine:
        away = moved(want.url, consumers)
        if not away:
            return SettingsChange(
                subject,
                "+",
                ("missing: created",),
                (create,),
                kind="webhook_consumer",
                before={"consumers": []},
                after=body,
            )
        moves = tuple(
            f"host {host_of(c.url)} -> {host_of(want.url)}: the account's webhooks go to the new"
            " host (the consumer there is replaced)"
            for c in away
        )
        return SettingsChange(
            subject,
            "~",
            moves,
            (*(requests.delete_consumer(c.id) for c in away), create),
            kind="webhook_consumer",
            destructive=True,
            before={"consumers": [c.seen() for c in sorted(away, key=lambda c: c.id)]},
            after=body,
        )
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
    deletes = tuple(requests.delete_consumer(c.id) for c in mine)
    return SettingsChange(
        subject,
        "~",
        (*lines, "replaced (Codat cannot edit one)"),
        (*deletes, create),
        kind="webhook_consumer",
        before={"consumers": [c.seen() for c in sorted(mine, key=lambda c: c.id)]},
        after=body,
    )


def settings_changes(
    wanted: AccountSettings, live_sync: Mapping[str, Any], consumers: Sequence[LiveConsumer]
) -> tuple[SettingsChange, ...]:
    found = [_sync_change(wanted, live_sync) if wanted.sync else None]
    if wanted.consumer is not None:
        found.append(_consumer_change(wanted.consumer, consumers))
    return tuple(c for c in found if c is not None)


def allow_redirects(
    changes: Sequence[SettingsChange], env: str, destroyed: int, options: PlanOptions
) -> tuple[tuple[SettingsChange, ...], tuple[Refusal, ...]]:
    """The changes the plan may make, and a refusal for each consumer moved to another host
    without the destroy allowance: `--max-destroy N` with N at least the plan's destroys
    (`destroyed`, counted as the guard counts them) and these moves."""
    moves = sum(1 for c in changes if c.destructive)
    if not moves:
        return tuple(changes), ()
    total = destroyed + moves
    if options.max_destroy is not None and total <= options.max_destroy:
        return tuple(changes), ()
    kept = tuple(c for c in changes if not c.destructive)
    refused = tuple(
        Refusal(
            SETTINGS_UID,
            f"environment {env}",
            change.subject,
            f"{'; '.join(change.lines)}. Moving a consumer to another host redirects the "
            "account's webhooks, a destroy: check the file's url; if this is intended, pass "
            f"--max-destroy {total}",
        )
        for change in changes
        if change.destructive
    )
    return kept, refused
