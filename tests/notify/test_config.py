"""The notifications file: a deployment's trusted setting. Every error names the file and line
and says what to do; secrets come from the environment (NAME or NAME_FILE), never the file; a bad
file stops `watch` and `converge` before any request."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from reconcile.notify.config import NotifyConfigError, load_config
from tests.notify.support import PARTNER_SECRET_ENV, notify_file, partner_channel, partner_env
from tests.support.cli import reconcile
from tests.watch.helpers import new_secret, served_codat, write_file

APP = "https://app.example.com/hooks/reconcile"


def test_a_full_file_is_read_with_its_secrets_from_the_environment(tmp_path: Path) -> None:
    secret_file = tmp_path / "smtp-password"
    secret_file.write_text("hunter2-but-longer\n", encoding="utf-8")
    env = {**partner_env(), "CHAT_URL": "https://hooks.slack.example/T0/B0/xyz"}
    env |= {"SMTP_PASSWORD_FILE": str(secret_file)}
    path = notify_file(
        tmp_path / "notify.yaml",
        partner_channel(APP),
        "{kind: slack, url_env: CHAT_URL, events: [connection_error, delivery_refused]}",
        "{kind: smtp, host: smtp.example.com, port: 587, starttls: true, "
        "from: r@example.com, to: oncall@example.com, password_env: SMTP_PASSWORD}",
        reminder="2d",
    )
    config = load_config(path, env)
    app, chat, mail = config.channels
    assert app.secret == env[PARTNER_SECRET_ENV] and app.wants("customer.onboarded")
    assert chat.url == env["CHAT_URL"] and chat.events == {"connection_error", "delivery_refused"}
    assert mail.password == "hunter2-but-longer" and mail.recipients == ("oncall@example.com",)
    assert config.reminder_after == timedelta(days=2)
    assert env[PARTNER_SECRET_ENV] not in repr(config)  # secrets stay out of reprs and logs


@pytest.mark.parametrize(
    ("channel", "line", "words"),
    [
        (
            "{kind: partner_webhook, url: 'https://app.example.com/h', secret: whsec_x}",
            3,
            "use *_env",
        ),
        (
            "{kind: partner_webhook, url: 'https://app.example.com/hooks/reconcile'}",
            3,
            "needs secret_env",
        ),
        (
            "{kind: partner_webhook, url: 'https://app.example.com/h', secret_env: NOT_SET_HERE}",
            3,
            "set NOT_SET_HERE (or NOT_SET_HERE_FILE)",
        ),
        ("{kind: slack, url: 'http://chat.example.com/x'}", 3, "must be https://"),
        ("{kind: pager, url: 'https://app.example.com/hooks/reconcile'}", 3, "kind must be one of"),
        (
            "{kind: webhook, url: 'https://app.example.com/hooks/reconcile', events: [everything]}",
            3,
            "unknown event",
        ),
        ("{kind: smtp, host: smtp.example.com, from: a@b.c}", 3, "smtp needs to:"),
    ],
)
def test_a_bad_channel_names_file_and_line(
    tmp_path: Path, channel: str, line: int, words: str
) -> None:
    path = notify_file(tmp_path / "notify.yaml", channel)
    with pytest.raises(NotifyConfigError) as caught:
        load_config(path, partner_env())
    assert str(caught.value).startswith(f"{path}:{line}: ")
    assert words in str(caught.value)


def test_a_secret_set_twice_or_a_broken_file_is_refused(tmp_path: Path) -> None:
    path = notify_file(tmp_path / "notify.yaml", partner_channel(APP))
    both = {**partner_env(), f"{PARTNER_SECRET_ENV}_FILE": str(path)}
    with pytest.raises(NotifyConfigError, match="not both"):
        load_config(path, both)
    path.write_text("channels: [\n", encoding="utf-8")
    with pytest.raises(NotifyConfigError, match=r"notify.yaml:\d+: not valid YAML"):
        load_config(path, {})
    # Control: the same channel with its secret is fine.
    notify_file(path, partner_channel(APP))
    assert load_config(path, partner_env()).partner


@pytest.mark.parametrize("command", ["watch", "converge", "audit"])
def test_a_bad_notifications_file_stops_before_any_request(tmp_path: Path, command: str) -> None:
    bad = notify_file(
        tmp_path / "notify.yaml",
        "{kind: partner_webhook, url: 'https://app.example.com/hooks/reconcile'}",
    )
    with served_codat(tmp_path) as codat:
        desired = write_file(tmp_path / "customers.yaml")
        env = {**codat.env(), "CODAT_WEBHOOK_SECRET": new_secret()}
        args = (command, str(desired), "--notify", str(bad), "--state-dir", str(tmp_path / "s"))
        done = reconcile(*args, env=env)
        assert done.returncode == 1, done.stderr
        assert f"{bad}:3: partner_webhook needs secret_env" in done.stderr
        assert "Traceback" not in done.stderr
        assert codat.requests() == []
        # Control: converge with a good file does talk to Codat.
        if command == "converge":
            good = notify_file(tmp_path / "good.yaml", partner_channel("http://127.0.0.1:9/x"))
            done = reconcile(*args[:3], str(good), *args[4:], env={**env, **partner_env()})
            assert done.returncode in (0, 2), done.stderr
            assert codat.requests() != []


def test_the_documented_example_is_valid() -> None:
    from tests.support.sandbox_server import PROJECT_ROOT

    env = {"PARTNER_WEBHOOK_SECRET": new_secret(), "SLACK_WEBHOOK_URL": "https://slack.example/x"}
    env |= {"SMTP_USERNAME": "reconcile", "SMTP_PASSWORD": "a-long-password"}
    config = load_config(PROJECT_ROOT / "examples" / "watch" / "notifications.yaml", env)
    assert [c.kind for c in config.channels] == ["partner_webhook", "slack", "smtp"]
    assert "--notify" in (PROJECT_ROOT / "docs" / "watch.md").read_text(encoding="utf-8")
