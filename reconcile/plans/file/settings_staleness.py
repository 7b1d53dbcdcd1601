"""Is a saved plan's account-settings change still what it was? Judged one by one against the
account's settings read again just before apply, as customers' actions are
(`reconcile.plans.file.staleness`):

- landed: the account already holds what it wants ("already applied": another apply made it);
- changed behind the plan: what it depends on differs from what the plan saw (`before`): for
  the sync settings, the account's whole list (the write carries it all, so applying it would
  undo the change); for a consumer, the consumers at its url and those it replaces. It is not
  made; the other changes, and the customers' actions, go on;
- otherwise it remains to be made.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from reconcile.escape import text
from reconcile.planner.settings import LiveConsumer, sync_seen
from reconcile.plans import SettingsChange
from reconcile.plans.file.staleness import field_changes


@dataclass(frozen=True)
class SettingsVerdict:
    landed: tuple[SettingsChange, ...] = ()
    remaining: tuple[SettingsChange, ...] = ()
    # The remaining changes not made, each with what changed behind the plan.
    held: tuple[tuple[SettingsChange, tuple[str, ...]], ...] = ()

    @property
    def runnable(self) -> tuple[SettingsChange, ...]:
        held = {id(change) for change, _ in self.held}
        return tuple(c for c in self.remaining if id(c) not in held)


def judge_settings(
    changes: Sequence[SettingsChange],
    sync: Mapping[str, Any],
    consumers: Sequence[LiveConsumer],
) -> SettingsVerdict:
    landed: list[SettingsChange] = []
    remaining: list[SettingsChange] = []
    held: list[tuple[SettingsChange, tuple[str, ...]]] = []
    for change in changes:
        if _landed(change, sync, consumers):
            landed.append(change)
            continue
        remaining.append(change)
        lines = _changed(change, sync, consumers)
        if lines:
            held.append((change, tuple(f"{text(change.subject)}: {line}" for line in lines)))
    return SettingsVerdict(tuple(landed), tuple(remaining), tuple(held))


def _landed(
    change: SettingsChange, sync: Mapping[str, Any], consumers: Sequence[LiveConsumer]
) -> bool:
    after = change.after or {}
    if change.kind == "sync_settings":
        live = {s.get("dataType"): s for s in sync_seen(sync)}
        return all(
            isinstance(fields, Mapping)
            and all((live.get(data_type) or {}).get(k) == v for k, v in fields.items())
            for data_type, fields in after.items()
        )
    tags = after.get("companyTags")
    wanted = (sorted(after.get("eventTypes") or ()), None if tags is None else sorted(tags))
    made = any(
        c.url == after.get("url")
        and (sorted(c.event_types), None if c.company_tags is None else sorted(c.company_tags))
        == wanted
        for c in consumers
    )
    replaced = {str(c.get("id")) for c in _seen_consumers(change)}
    return made and not any(c.id in replaced for c in consumers)


def _changed(
    change: SettingsChange, sync: Mapping[str, Any], consumers: Sequence[LiveConsumer]
) -> list[str]:
    before = change.before or {}
    if change.kind == "sync_settings":
        then = _by(before.get("settings") or (), "dataType")
        now = _by(sync_seen(sync), "dataType")
        return field_changes(then, now)
    seen = _seen_consumers(change)
    urls = {str(c.get("url")) for c in seen} | {str((change.after or {}).get("url"))}
    then = _by(seen, "id", "consumer")
    now = _by([c.seen() for c in consumers if c.url in urls], "id", "consumer")
    lines = [f"{name} ({_events(then[name])}) removed" for name in sorted(then.keys() - now.keys())]
    lines += [f"{name} ({_events(now[name])}) added" for name in sorted(now.keys() - then.keys())]
    both = sorted(then.keys() & now.keys())
    lines += field_changes({k: then[k] for k in both}, {k: now[k] for k in both})
    return lines


def _events(consumer: Mapping[str, Any]) -> str:
    events = ", ".join(text(str(e)) for e in consumer.get("eventTypes") or ()) or "no events"
    return f"{text(str(consumer.get('url')))}: {events}"


def _seen_consumers(change: SettingsChange) -> list[Mapping[str, Any]]:
    listed = (change.before or {}).get("consumers") or ()
    return [c for c in listed if isinstance(c, Mapping)]


def _by(entries: Any, key: str, label: str = "") -> dict[str, Any]:
    found: dict[str, Any] = {}
    for entry in entries:
        if isinstance(entry, Mapping):
            name = f"{label} {entry.get(key)}".strip()
            found[name] = {k: v for k, v in entry.items() if k != key}
    return found
