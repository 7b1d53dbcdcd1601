"""The notifications file: where notifications go, a deployment's trusted setting.

It is named on the command line (`--notify FILE`), never read from the customers files (a pull
request must not redirect a Link URL). Secrets are never in it: it names environment variables
(`secret_env: NAME` reads NAME, or the file NAME_FILE names).

    reminders: {after: 3d}          # remind the partner's app of customers still waiting
    channels:
      - kind: partner_webhook       # Standard Webhooks, to the partner's own app
        url: https://app.example.com/hooks/reconcile
        secret_env: PARTNER_WEBHOOK_SECRET
      - kind: slack                 # a Slack-compatible incoming webhook (its URL is a secret)
        url_env: SLACK_WEBHOOK_URL
      - kind: smtp
        host: smtp.example.com
        from: reconcile@example.com
        to: [oncall@example.com]
      - kind: webhook               # a generic JSON webhook
        url: https://ops.example.com/hooks/reconcile
        events: [connection_error, delivery_refused]

Any error names the file and line and says what to do; it is raised before any request.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import yaml

from reconcile.loopback import is_loopback

ChannelKind = Literal["partner_webhook", "slack", "smtp", "webhook"]
CHANNEL_KINDS: tuple[ChannelKind, ...] = ("partner_webhook", "slack", "smtp", "webhook")
PARTNER_EVENTS = (
    "customer.authorization_needed",
    "customer.onboarded",
    "customer.reauthorization_needed",
    "customer.offboarded",
)
TEAM_EVENTS = (
    "refused",
    "duplicate",
    "unsafe_plan",
    "connection_error",
    "deauthorized",
    "left_file",
    "delivery_refused",
    "pass_failed",
    "quota_paused",
)
DEFAULT_REMINDER = timedelta(days=3)
_KEYS: dict[str, frozenset[str]] = {
    "partner_webhook": frozenset({"url", "url_env", "secret_env", "events", "name"}),
    "slack": frozenset({"url", "url_env", "events", "name"}),
    "webhook": frozenset({"url", "url_env", "secret_env", "events", "name"}),
    "smtp": frozenset(
        {
            *("host", "port", "starttls", "from", "to", "events", "name"),
            *("username_env", "password_env"),
        }
    ),
}


class NotifyConfigError(Exception):
    """A notifications file that cannot be used: `str()` is FILE:LINE: what is wrong and what to
    do."""


@dataclass(frozen=True)
class Channel:
    name: str
    kind: ChannelKind
    events: frozenset[str]
    url: str | None = None
    secret: str | None = field(default=None, repr=False)
    host: str | None = None
    port: int = 25
    starttls: bool = False
    sender: str | None = None
    recipients: tuple[str, ...] = ()
    username: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)

    @property
    def partner(self) -> bool:
        return self.kind == "partner_webhook"

    def wants(self, event: str) -> bool:
        return event in self.events


@dataclass(frozen=True)
class NotifyConfig:
    file: str
    channels: tuple[Channel, ...]
    reminder_after: timedelta = DEFAULT_REMINDER

    @property
    def partner(self) -> tuple[Channel, ...]:
        return tuple(c for c in self.channels if c.partner)

    @property
    def team(self) -> tuple[Channel, ...]:
        return tuple(c for c in self.channels if not c.partner)


def load_config(path: Path, env: Mapping[str, str] | None = None) -> NotifyConfig:
    env = os.environ if env is None else env
    where = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise NotifyConfigError(
            f"{where}: cannot read the notifications file ({exc.strerror}); check --notify"
        ) from None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        raise NotifyConfigError(f"{where}:{line}: not valid YAML; fix the file") from None
    return _Reader(where, env).config(root)


class _Reader:
    def __init__(self, file: str, env: Mapping[str, str]) -> None:
        self.file = file
        self.env = env

    def error(self, node: yaml.Node | None, message: str) -> NotifyConfigError:
        line = node.start_mark.line + 1 if node is not None else 1
        return NotifyConfigError(f"{self.file}:{line}: {message}")

    def mapping(self, node: yaml.Node | None, what: str) -> dict[str, tuple[yaml.Node, Any]]:
        if not isinstance(node, yaml.MappingNode):
            raise self.error(node, f"{what} must be a mapping")
        out: dict[str, tuple[yaml.Node, Any]] = {}
        for key, value in node.value:
            name = key.value if isinstance(key, yaml.ScalarNode) else None
            if not isinstance(name, str) or name in out:
                raise self.error(key, f"{what}: keys must be distinct words")
            out[name] = (value, yaml.safe_load(yaml.serialize(value)))
        return out

    def config(self, root: yaml.Node | None) -> NotifyConfig:
        top = self.mapping(root, "the notifications file")
        unknown = set(top) - {"version", "reminders", "channels"}
        if unknown:
            key = sorted(unknown)[0]
            raise self.error(top[key][0], f"unknown key {key!r} (reminders, channels)")
        reminder = DEFAULT_REMINDER
        if "reminders" in top:
            reminder = self.reminder(top["reminders"][0])
        if "channels" not in top:
            raise self.error(root, "no channels: list where notifications go under channels:")
        node = top["channels"][0]
        if not isinstance(node, yaml.SequenceNode) or not node.value:
            raise self.error(node, "channels must be a non-empty list")
        channels: list[Channel] = []
        for item in node.value:
            channel = self.channel(item, len(channels))
            if any(c.name == channel.name for c in channels):
                raise self.error(item, f"two channels are named {channel.name!r}; name them apart")
            channels.append(channel)
        return NotifyConfig(self.file, tuple(channels), reminder)

    def reminder(self, node: yaml.Node) -> timedelta:
        from reconcile.durations import parse_duration

        fields = self.mapping(node, "reminders")
        if set(fields) - {"after"}:
            raise self.error(node, "reminders takes only after: (e.g. after: 3d)")
        value_node, value = fields.get("after", (node, None))
        try:
            after = parse_duration(str(value))
        except ValueError as exc:
            raise self.error(value_node, f"reminders.after: {exc}") from None
        if after < timedelta(hours=1):
            raise self.error(value_node, "reminders.after must be at least 1h")
        return after

    def channel(self, node: yaml.Node, index: int) -> Channel:
        fields = self.mapping(node, "a channel")
        kind_node, kind = fields.get("kind", (node, None))
        if kind not in CHANNEL_KINDS:
            raise self.error(kind_node, f"kind must be one of {', '.join(CHANNEL_KINDS)}")
        unknown = set(fields) - _KEYS[kind] - {"kind"}
        if unknown:
            key = sorted(unknown)[0]
            hint = " (secrets come from the environment: use *_env)" if "secret" in key else ""
            raise self.error(fields[key][0], f"{kind}: unknown key {key!r}{hint}")
        name = str(fields.get("name", (node, f"{kind}-{index + 1}"))[1])
        events = self.events(kind, fields.get("events"))
        if kind == "smtp":
            return self.smtp(node, fields, name, events)
        url = self.url(node, kind, fields)
        secret = self.secret(fields.get("secret_env"))
        if kind == "partner_webhook" and secret is None:
            raise self.error(
                node, "partner_webhook needs secret_env: the variable holding its whsec_ secret"
            )
        if secret is not None and not secret.startswith("whsec_"):
            raise self.error(
                fields["secret_env"][0], "the signing secret must be a whsec_ (base64) secret"
            )
        return Channel(name, kind, events, url=url, secret=secret)

    def events(self, kind: str, found: tuple[yaml.Node, Any] | None) -> frozenset[str]:
        allowed = PARTNER_EVENTS if kind == "partner_webhook" else TEAM_EVENTS
        if found is None:
            return frozenset(allowed)
        node, value = found
        if not isinstance(value, list) or not value:
            raise self.error(node, "events must be a non-empty list")
        for item in value:
            if item not in allowed:
                raise self.error(node, f"{kind}: unknown event {item!r} ({', '.join(allowed)})")
        return frozenset(value)

    def url(self, node: yaml.Node, kind: str, fields: dict[str, tuple[yaml.Node, Any]]) -> str:
        if ("url" in fields) == ("url_env" in fields):
            raise self.error(node, f"{kind} needs url: or url_env: (one of them)")
        if "url" in fields:
            url_node, url = fields["url"]
        else:
            url_node = fields["url_env"][0]
            url = self.secret(fields["url_env"])
        parts = urlsplit(str(url))
        secure = parts.scheme == "https" or (
            parts.scheme == "http" and is_loopback(parts.hostname or "")
        )
        if not parts.hostname or not secure:
            raise self.error(url_node, f"{kind}: the URL must be https:// (http:// on loopback)")
        return str(url)

    def secret(self, found: tuple[yaml.Node, Any] | None) -> str | None:
        if found is None:
            return None
        node, name = found
        if not isinstance(name, str) or not name.replace("_", "").isalnum():
            raise self.error(node, "name an environment variable (e.g. PARTNER_WEBHOOK_SECRET)")
        value = self.env.get(name, "").strip()
        file = self.env.get(f"{name}_FILE", "").strip()
        if value and file:
            raise self.error(node, f"set {name} or {name}_FILE, not both")
        if file:
            try:
                value = Path(file).read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise self.error(node, f"cannot read {name}_FILE ({exc.strerror})") from None
        if not value:
            raise self.error(node, f"set {name} (or {name}_FILE) in the environment")
        return value

    def smtp(
        self,
        node: yaml.Node,
        fields: dict[str, tuple[yaml.Node, Any]],
        name: str,
        events: frozenset[str],
    ) -> Channel:
        for key in ("host", "from", "to"):
            if key not in fields:
                raise self.error(node, f"smtp needs {key}:")
        port_node, port = fields.get("port", (node, 25))
        if not isinstance(port, int) or not 0 < port < 65536:
            raise self.error(port_node, "smtp: port must be a number (25, 587, ...)")
        to_node, to = fields["to"]
        if isinstance(to, str):
            to = [to]
        if not isinstance(to, list) or not all(isinstance(t, str) and "@" in t for t in to):
            raise self.error(to_node, "smtp: to must list e-mail addresses")
        starttls = fields.get("starttls", (node, False))[1]
        if not isinstance(starttls, bool):
            raise self.error(fields["starttls"][0], "smtp: starttls is true or false")
        host = str(fields["host"][1])
        username = self.secret(fields.get("username_env"))
        password = self.secret(fields.get("password_env"))
        if password is not None and not starttls and not is_loopback(host):
            raise self.error(node, "smtp: a password is sent only with starttls: true")
        return Channel(
            name,
            "smtp",
            events,
            host=host,
            port=port,
            starttls=starttls,
            sender=str(fields["from"][1]),
            recipients=tuple(to),
            username=username,
            password=password,
        )
