"""Webhook signatures per Standard Webhooks (https://www.standardwebhooks.com/).

Codat signs each delivery with the consumer's `whsec_` secret: `webhook-id`, `webhook-timestamp`
and `webhook-signature` headers (older deliveries name them `svix-id`, `svix-timestamp`,
`svix-signature`). A delivery is accepted only when a v1 signature matches and the timestamp is
within five minutes of now (the `standardwebhooks` package decides both).
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

SECRET_ENV = "CODAT_WEBHOOK_SECRET"
SECRET_FILE_ENV = "CODAT_WEBHOOK_SECRET_FILE"
HEADERS = ("id", "timestamp", "signature")
PREFIX = "whsec_"
MIN_SECRET_BYTES = 24  # Codat's (and svix's) secrets are 24 random bytes or more


class SecretError(Exception):
    """No usable signing secret: the message says where to put one."""


@dataclass(frozen=True)
class Delivery:
    """A verified delivery: its message id and its body (still to be read as JSON)."""

    message_id: str
    body: bytes


class Rejected(Exception):
    """Not signed by Codat with our secret (missing, forged or expired): answer 401."""


def secret_variable(environment: str | None = None) -> str:
    """CODAT_WEBHOOK_SECRET, or per environment CODAT_WEBHOOK_SECRET_<NAME> (`prod-eu` ->
    CODAT_WEBHOOK_SECRET_PROD_EU): each Codat account has its own webhook consumers."""
    if environment is None:
        return SECRET_ENV
    return f"{SECRET_ENV}_{environment.upper().replace('-', '_')}"


def secret_from_env(env: Mapping[str, str] | None = None, *, environment: str | None = None) -> str:
    """The signing secret from CODAT_WEBHOOK_SECRET (CODAT_WEBHOOK_SECRET_<ENV> with
    `environment`), or the file the same name plus _FILE names."""
    env = os.environ if env is None else env
    name = secret_variable(environment)
    file_name = f"{name}_FILE"
    value = env.get(name, "").strip()
    file = env.get(file_name, "").strip()
    if value and file:
        raise SecretError(f"set {name} or {file_name}, not both")
    if file:
        try:
            value = Path(file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise SecretError(f"cannot read {file_name} ({exc.strerror})") from None
    if not value:
        raise SecretError(
            f"no webhook signing secret: set {name} (or {file_name}, a file holding "
            "it) to the whsec_ secret of Codat's webhook consumer for this URL"
        )
    return value


class Verifier:
    def __init__(self, secret: str) -> None:
        garbled = SecretError(
            f"the webhook signing secret ({SECRET_ENV} or {SECRET_FILE_ENV}) is not a "
            "whsec_ secret as Codat shows it; copy it again"
        )
        try:
            key = base64.b64decode(secret.removeprefix(PREFIX), validate=True)
            self._webhook = Webhook(secret)
        except (binascii.Error, ValueError, TypeError):  # not base64: never echo it
            raise garbled from None
        if len(key) < MIN_SECRET_BYTES:
            raise SecretError(
                f"the webhook signing secret ({SECRET_ENV} or {SECRET_FILE_ENV}) is "
                f"{len(key)} bytes, fewer than {MIN_SECRET_BYTES}: anyone could guess it. Copy "
                "the signing secret of the webhook consumer from the Codat portal (Settings > "
                "Webhooks > Manage consumers > the consumer > Signing secret; for the sandbox, "
                "`reconcile sandbox webhooks`)"
            )

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
