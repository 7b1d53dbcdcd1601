"""`watch --register URL`: make sure Codat has a webhook consumer for URL.

The consumer the watch wants: `url` URL, the event types it reacts to (`events.EVENT_TYPES`) and
`companyTags` ["reconcile.owner:<owner>"], so Codat sends only this owner's companies' events.

- One already there that covers it (enabled, every wanted event, no tag filter or ours): kept.
- None for URL: one is created, and its id is remembered in `.reconcile/webhook-consumers.json`
  (the only way to know later that the tool made it: Codat's consumers carry no owner).
- One for URL that falls short: replaced (created anew, then the old one deleted) only when the
  tool made it; one it did not make is never deleted or doubled: the message says what to fix
  in Codat's portal.

Codat's API never returns a consumer's signing secret: the messages say where to copy it from.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit

from reconcile.codat import CodatClient
from reconcile.codat.consumer_answers import WebhookConsumer
from reconcile.escape import text as escaped
from reconcile.loopback import is_loopback
from reconcile.model import OWNER_TAG
from reconcile.watch.events import EVENT_TYPES

STATE_FILE = Path(".reconcile") / "webhook-consumers.json"


class RegistrationError(Exception):
    """The URL cannot be registered (the message says why and what to do)."""


def secret_hint(consumer_id: str) -> str:
    return (
        f"copy the signing secret (whsec_...) of consumer {consumer_id} from Codat's portal "
        "(Settings > Webhooks > Manage consumers; for the sandbox: `reconcile sandbox webhooks`) "
        "into CODAT_WEBHOOK_SECRET or the file CODAT_WEBHOOK_SECRET_FILE names"
    )


def check_url(url: str) -> None:
    try:
        parts = urlsplit(url)
        host = parts.hostname
        _ = parts.port
    except ValueError:
        host = None
    if parts.scheme == "https" and host:
        return
    if parts.scheme == "http" and host and is_loopback(host):
        return
    raise RegistrationError(
        f"--register {escaped(url)}: give the public https:// URL of this watch's "
        "/webhooks/codat (plain http only to a loopback address, for a local sandbox)"
    )


def wanted_tags(owner: str) -> list[str]:
    return [f"{OWNER_TAG}:{owner}"]


def covers(consumer: WebhookConsumer, owner: str) -> bool:
    every_event = not consumer.event_types
    events = every_event or set(EVENT_TYPES) <= set(consumer.event_types)
    tags = consumer.company_tags is None or set(wanted_tags(owner)) <= set(consumer.company_tags)
    return events and tags and not consumer.disabled


def shortfall(consumer: WebhookConsumer, owner: str) -> str:
    missing = sorted(set(EVENT_TYPES) - set(consumer.event_types)) if consumer.event_types else []
    parts = [f"misses events {', '.join(missing)}"] if missing else []
    if consumer.company_tags is not None and not set(wanted_tags(owner)) <= set(
        consumer.company_tags
    ):
        parts.append(f"its companyTags lack {wanted_tags(owner)[0]}")
    if consumer.disabled:
        parts.append("it is disabled")
    return "; ".join(parts)


async def ensure_consumer(
    client: CodatClient, owner: str, url: str, state_file: Path = STATE_FILE
) -> list[str]:
    """Make sure a consumer for `url` covers this watch; returns what to tell the operator."""
    check_url(url)
    ours = _created_by_us(state_file)
    same_url = [c for c in await client.list_webhook_consumers() if c.url == url]
    for consumer in same_url:
        if covers(consumer, owner):
            return [
                f"Codat's webhook consumer {consumer.id} already sends {escaped(url)} the "
                f"events the watch needs; if the secret is not set yet, {secret_hint(consumer.id)}"
            ]
    foreign = [c for c in same_url if c.id not in ours]
    if foreign:
        return [
            f"webhook consumer {c.id} for {escaped(url)} {shortfall(c, owner)}; reconcile did not "
            "create it and will neither change nor delete it: fix it in Codat's portal (or delete "
            "it there and run --register again)"
            for c in foreign
        ]
    created = await client.create_webhook_consumer(url, list(EVENT_TYPES), wanted_tags(owner))
    lines = [f"created webhook consumer {created.id} for {escaped(url)} (owner {escaped(owner)})"]
    _remember(state_file, [*ours, created.id], lines)
    for old in same_url:  # all ours (the foreign ones returned above)
        await client.delete_webhook_consumer(old.id)
        lines.append(
            f"deleted webhook consumer {old.id}, which reconcile had created: "
            f"{shortfall(old, owner)}"
        )
    lines.append(f"to verify its deliveries, {secret_hint(created.id)}, then restart the watch")
    return lines


def _created_by_us(state_file: Path) -> set[str]:
    try:
        data = json.loads(state_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return set()
    ids = data.get("created") if isinstance(data, dict) else None
    return {i for i in ids if isinstance(i, str)} if isinstance(ids, list) else set()


def _remember(state_file: Path, ids: Sequence[str], lines: list[str]) -> None:
    try:
        state_file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(state_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump({"created": sorted(set(ids))}, out, indent=2)
    except OSError as exc:
        lines.append(
            f"could not record it in {state_file} ({exc.strerror}): a later --register will "
            "treat it as not made by reconcile and never replace it"
        )
