"""The webhook consumer in an environment's settings decides where Codat sends the account's
webhooks, so it is trusted configuration (issue 26): a pull request cannot change its url
(`--base`), a file's url must be https:// (or plain http to loopback) without user info, and
moving an existing consumer to another host is a destroy: listed under Destructive, made only
with `--max-destroy`. On a served sandbox of its own, through real `reconcile` runs."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.cli.test_account_settings import CONSUMER_URL, EVENTS, FILE, run, served
from tests.conftest import AUTH_HEADERS
from tests.plans.file.saved_support import reconcile

__all__ = ["served"]  # the fixture, shared with tests/cli/test_account_settings.py

MOVED_URL = "http://127.0.0.2:9/webhooks/codat"  # the same path on another (loopback) host


def consumers(codat: httpx.Client) -> dict[str, list[str]]:
    return {c["url"]: sorted(c["eventTypes"]) for c in codat.get("/webhooks").json()["results"]}


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("http://watch.example.com/webhooks/codat", "is not https://"),
        ("https://ops:hunter2@watch.example.com/webhooks/codat", "holds user info"),
        ("http://ops@127.0.0.1:9/webhooks/codat", "holds user info"),
    ],
)
def test_a_consumer_url_that_is_not_https_is_refused_where_it_is_written(
    tmp_path: Path, served: str, url: str, said: str
) -> None:
    file = tmp_path / "customers.yaml"
    file.write_text(FILE.replace(CONSUMER_URL, url))
    with httpx.Client(base_url=served, headers=AUTH_HEADERS) as codat:
        before = consumers(codat)
        code, out = run(served, "plan", str(file), "--allow-empty")
        assert code == 1, out
        line = next(n for n, text in enumerate(FILE.splitlines(), 1) if "url:" in text)
        assert f"{file}:{line}:" in out, out  # the url's own line
        assert "environment 'test': settings.webhookConsumer.url " in out
        assert said in out
        assert "nothing was sent to Codat" in out
        assert "hunter2" not in out  # user info is never echoed
        assert consumers(codat) == before


def test_validate_refuses_a_consumer_url_that_is_not_https(tmp_path: Path) -> None:
    """Offline: the rule needs nothing from the command line."""
    file = tmp_path / "customers.yaml"
    file.write_text(FILE.replace(CONSUMER_URL, "http://watch.example.com/webhooks/codat"))
    result = reconcile("validate", str(file), url=None, key=None)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "settings.webhookConsumer.url" in result.stderr and "Traceback" not in result.stderr
    file.write_text(FILE)  # control
    assert reconcile("validate", str(file), url=None, key=None).returncode == 0


def test_an_https_or_loopback_consumer_url_is_accepted(tmp_path: Path, served: str) -> None:
    """The control: the rule refuses only what it names."""
    for url in ("https://watch.example.com/webhooks/codat", CONSUMER_URL):
        file = tmp_path / "customers.yaml"
        file.write_text(FILE.replace(CONSUMER_URL, url))
        code, out = run(served, "plan", str(file), "--allow-empty", "--detailed-exitcode")
        assert code == 2, out
        assert f"+ webhook consumer {url}" in out


def test_a_pull_request_cannot_change_the_consumer_url(tmp_path: Path, served: str) -> None:
    base = tmp_path / "base"
    base.mkdir()
    (base / "customers.yaml").write_text(FILE)
    head = tmp_path / "customers.yaml"
    head.write_text(FILE.replace(CONSUMER_URL, "https://pr.example.com/webhooks/codat"))
    code, out = run(served, "plan", str(head), "--base", str(base), "--allow-empty")
    assert code == 1, out
    assert "settings differs from the base files" in out
    head.write_text(FILE)  # control: the base's own settings plan
    code, out = run(served, "plan", str(head), "--base", str(base), "--allow-empty")
    assert code == 0, out


@pytest.mark.slow
def test_moving_the_consumer_to_another_host_is_a_destroy(tmp_path: Path, served: str) -> None:
    file = tmp_path / "customers.yaml"
    file.write_text(FILE)
    assert run(served, "apply", str(file), "--auto-approve", "--allow-empty")[0] == 0
    file.write_text(FILE.replace(CONSUMER_URL, MOVED_URL))
    with httpx.Client(base_url=served, headers=AUTH_HEADERS) as codat:
        code, out = run(served, "plan", str(file), "--allow-empty", "--detailed-exitcode")
        assert code == 2, out
        assert "Destructive" not in out
        assert "Refused (1):" in out
        assert "host 127.0.0.1:9 -> 127.0.0.2:9" in out
        assert "pass --max-destroy 1" in out
        code, out = run(served, "apply", str(file), "--auto-approve", "--allow-empty")
        assert code == 0, out
        assert consumers(codat) == {CONSUMER_URL: EVENTS}  # refused: nothing moved

        allowed = ("--allow-empty", "--max-destroy", "1")
        code, out = run(served, "plan", str(file), *allowed, "--detailed-exitcode")
        assert code == 2, out
        assert "Destructive (1): read these first" in out
        destructive = out[out.index("Destructive") : out.index("Account settings")]
        assert "host 127.0.0.1:9 -> 127.0.0.2:9: the account's webhooks go to the new" in (
            destructive
        )
        assert "Refused" not in out
        code, out = run(served, "apply", str(file), *allowed, "--auto-approve")
        assert code == 0, out
        assert consumers(codat) == {MOVED_URL: EVENTS}  # moved: the old one replaced
    code, out = run(served, "plan", str(file), "--allow-empty", "--detailed-exitcode")
    assert code == 0, out
