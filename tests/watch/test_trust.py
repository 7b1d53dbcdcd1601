"""Who a real `reconcile watch` trusts: /status and /metrics only on the internal listener and
only for its own host names; a delivery id once accepted stays a duplicate after a restart; a
timestamp too far ahead is refused. Each with a control showing the refusal is not a default."""

from __future__ import annotations

import signal
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from tests.watch.helpers import running_watch, served_codat, write_file

pytestmark = pytest.mark.slow

IGNORED_EVENT = {"eventType": "client.somethingElse", "payload": {}}


def test_status_is_internal_and_answers_only_its_own_host_names(tmp_path: Path) -> None:
    with served_codat(tmp_path) as codat:
        desired = write_file(tmp_path / "customers.yaml")
        args = (str(desired), "--resync", "1h", "--status-host", "watch.internal")
        with running_watch(codat, *args) as watch:
            # The public listener (what the HTTPS proxy forwards) serves no status page.
            for path in ("/status", "/metrics"):
                assert httpx.get(watch.url + path, timeout=10).status_code == 404, path
            assert httpx.get(watch.url + "/healthz", timeout=10).text == "ok\n"

            # The internal one answers loopback names and --status-host, nothing else.
            port = watch.status_url.rsplit(":", 1)[1]
            for host in ("127.0.0.1", "localhost", "watch.internal", "WATCH.internal"):
                for path in ("/status", "/metrics", "/healthz"):
                    answer = _get(watch.status_url + path, f"{host}:{port}")
                    assert answer.status_code == 200, (host, path)  # the control
            assert _get(watch.status_url + "/status", "localhost").json()["owner"] == "watch-test"
            for host in ("rebound.example", "watch.internal.example", "127.0.0.1.nip.io", ""):
                for path in ("/status", "/metrics"):
                    answer = _get(watch.status_url + path, f"{host}:{port}" if host else "")
                    assert answer.status_code == 400, (host, path, answer.text)
                    assert "watch-test" not in answer.text
            assert watch.stop(signal.SIGTERM) == 143


def test_a_replay_after_a_restart_is_a_duplicate(tmp_path: Path) -> None:
    state, fresh = tmp_path / "state", tmp_path / "fresh-state"
    sent = datetime.now(UTC)
    with served_codat(tmp_path) as codat:
        desired = write_file(tmp_path / "customers.yaml")
        args = (str(desired), "--resync", "1h")
        with running_watch(codat, *args, state_dir=state) as first:
            secret = first.secret
            answer = first.deliver(IGNORED_EVENT, message_id="msg_replayed", timestamp=sent)
            assert answer.json()["outcome"] == "ignored"
            assert first.stop(signal.SIGTERM) == 143
        with running_watch(codat, *args, state_dir=state, secret=secret) as second:
            replay = second.deliver(IGNORED_EVENT, message_id="msg_replayed", timestamp=sent)
            assert replay.status_code == 200 and replay.json()["outcome"] == "duplicate"
            assert second.stop(signal.SIGTERM) == 143
        # Control: without the file the very same delivery would have been taken as new.
        with running_watch(codat, *args, state_dir=fresh, secret=secret) as third:
            again = third.deliver(IGNORED_EVENT, message_id="msg_replayed", timestamp=sent)
            assert again.status_code == 200 and again.json()["outcome"] == "ignored"
            assert third.stop(signal.SIGTERM) == 143


def test_a_timestamp_too_far_ahead_is_refused(tmp_path: Path) -> None:
    with served_codat(tmp_path) as codat:
        desired = write_file(tmp_path / "customers.yaml")
        with running_watch(codat, str(desired), "--resync", "1h") as watch:
            ahead = datetime.now(UTC) + timedelta(minutes=10)
            refused = watch.deliver(IGNORED_EVENT, timestamp=ahead)
            assert refused.status_code == 401 and "too new" in refused.text
            # Control: within the tolerance (a clock a minute fast) it is taken.
            slightly = datetime.now(UTC) + timedelta(minutes=1)
            taken = watch.deliver(IGNORED_EVENT, timestamp=slightly)
            assert taken.status_code == 200 and taken.json()["outcome"] == "ignored"
            assert watch.stop(signal.SIGTERM) == 143


def _get(url: str, host: str) -> httpx.Response:
    return httpx.get(url, headers={"Host": host}, timeout=10)
