"""Webhook signatures per Standard Webhooks (https://www.standardwebhooks.com/).

Codat signs each delivery with the consumer's `whsec_` secret: `webhook-id`, `webhook-timestamp`
and `webhook-signature` headers (older deliveries name them `svix-id`, `svix-timestamp`,
`svix-signature`). A delivery is accepted only when a v1 signature matches and the timestamp is
within five minutes of now (the `standardwebhooks` package decides both).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

SECRET_ENV = "CODAT_WEBHOOK_SECRET"
SECRET_FILE_ENV = "CODAT_WEBHOOK_SECRET_FILE"
HEADERS = ("id", "timestamp", "signature")


class SecretError(Exception):
    """No usable signing secret: the message says where to put one."""


@dataclass(frozen=True)
class Delivery:
    """A verified delivery: its message id and its body (still to be read as JSON)."""

    message_id: str
    body: bytes


class Rejected(Exception):
    """Not signed by Codat with our secret (missing, forged or expired): answer 401."""


def secret_from_env(env: Mapping[str, str] | None = None) -> str:
    """The signing secret from CODAT_WEBHOOK_SECRET, or the file CODAT_WEBHOOK_SECRET_FILE names."""
    env = os.environ if env is None else env
    value = env.get(SECRET_ENV, "").strip()
    file = env.get(SECRET_FILE_ENV, "").strip()
    if value and file:
        raise SecretError(f"set {SECRET_ENV} or {SECRET_FILE_ENV}, not both")
    if file:
        try:
            value = Path(file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise SecretError(f"cannot read {SECRET_FILE_ENV} ({exc.strerror})") from None
    if not value:
        raise SecretError(
            f"no webhook signing secret: set {SECRET_ENV} (or {SECRET_FILE_ENV}, a file holding "
            "it) to the whsec_ secret of Codat's webhook consumer for this URL"
        )
    return value


class Verifier:
    def __init__(self, secret: str) -> None:
        try:
            self._webhook = Webhook(secret)
        except Exception:  # a secret that is not base64: never echo it
            raise SecretError(
                f"the webhook signing secret ({SECRET_ENV} or {SECRET_FILE_ENV}) is not a "
                "whsec_ secret as Codat shows it; copy it again"
            ) from None

    def verify(self, body: bytes, headers: Mapping[str, str]) -> Delivery:
        """The delivery if Codat signed it with our secret recently; else `Rejected`."""
        wanted = {f"webhook-{name}": _header(headers, name) for name in HEADERS}
        if not all(wanted.values()):
            raise Rejected("unsigned: no webhook-id, webhook-timestamp and webhook-signature")
        try:
            text = body.decode("utf-8")
            self._webhook.verify(text, {k: v for k, v in wanted.items() if v}, json_parse=False)
        except WebhookVerificationError as exc:
            raise Rejected(str(exc)) from None
        except ValueError:  # malformed signature list, base64 or UTF-8
            raise Rejected("malformed signature headers or body") from None
        return Delivery(wanted["webhook-id"] or "", body)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    return headers.get(f"webhook-{name}") or headers.get(f"svix-{name}")
