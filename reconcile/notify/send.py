"""Sending one message on one channel. Each raises `SendError` when the message did not land (the
notifier retries it later).

- the partner's app: a JSON event signed per Standard Webhooks (`standardwebhooks`), as Codat
  signs its own, so the app verifies it the same way;
- Slack-compatible chat: an incoming webhook's `{"text": ...}`;
- a generic webhook: `{"type": "reconcile.notifications", "items": [...]}` (signed too when the
  channel has a secret);
- e-mail: one plain-text message over SMTP (`smtplib`, in a thread).
"""

from __future__ import annotations

import asyncio
import json
import smtplib
from collections.abc import Sequence
from datetime import datetime
from email.message import EmailMessage
from typing import Any

import httpx
from standardwebhooks.webhooks import Webhook

from reconcile.notify.config import Channel

TIMEOUT_SECONDS = 10.0


class SendError(Exception):
    """The message did not land: the text says why (never a URL or a secret)."""


def signed_headers(secret: str, message_id: str, when: datetime, body: str) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(int(when.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, when, body),
    }


async def post_json(
    http: httpx.AsyncClient,
    channel: Channel,
    document: dict[str, Any],
    *,
    message_id: str,
    when: datetime,
) -> None:
    assert channel.url is not None
    body = json.dumps(document, ensure_ascii=False)
    headers = (
        signed_headers(channel.secret, message_id, when, body)
        if channel.secret
        else {"content-type": "application/json"}
    )
    try:
        answer = await http.post(
            channel.url, content=body.encode(), headers=headers, timeout=TIMEOUT_SECONDS
        )
    except httpx.HTTPError as exc:
        raise SendError(f"{channel.name}: {type(exc).__name__}") from None
    if not 200 <= answer.status_code < 300:
        raise SendError(f"{channel.name}: answered {answer.status_code}")


def slack_text(lines: Sequence[str]) -> str:
    """Slack's mrkdwn needs &, < and > escaped (its own rule); a line per item."""
    escaped = (
        line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") for line in lines
    )
    return "\n".join(f"• {line}" for line in escaped)


async def send_mail(channel: Channel, subject: str, lines: Sequence[str]) -> None:
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = channel.sender or ""
    message["To"] = ", ".join(channel.recipients)
    message.set_content("\n".join(lines) + "\n")

    def deliver() -> None:
        assert channel.host is not None
        with smtplib.SMTP(channel.host, channel.port, timeout=TIMEOUT_SECONDS) as smtp:
            if channel.starttls:
                smtp.starttls()
            if channel.username and channel.password:
                smtp.login(channel.username, channel.password)
            smtp.send_message(message)

    try:
        await asyncio.to_thread(deliver)
    except (OSError, smtplib.SMTPException) as exc:
        raise SendError(f"{channel.name}: {type(exc).__name__}") from None
