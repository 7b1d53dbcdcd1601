"""The watch's own health reaches the team: Codat's daily quota used up (a real watch on a served
sandbox with a tiny quota), a pass that cannot read Codat, a refused delivery's likely cause."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconcile.codat.errors import CodatError
from reconcile.executor import Stopper
from reconcile.model import DesiredState
from reconcile.notify.config import load_config
from reconcile.notify.notifier import Notifier
from reconcile.notify.store import FILE_NAME, NotifyStore
from reconcile.notify.watching import likely_cause, notifying_converge
from tests.notify.support import Clock, FreshLinks, notify_file
from tests.sandbox.webhook_receiver import receiver
from tests.watch.helpers import applied_in_process, running_watch, served_codat


class CodatIsDown:
    """A client whose every read fails as an unreachable Codat does."""

    requests_sent = 0
    server_time = None

    def foresee(self, requests: int) -> None:
        """Sends nothing (as the real client's): only the reads fail."""

    def __getattr__(self, name: str) -> Any:
        async def fails(*args: object, **kwargs: object) -> None:
            raise CodatError("GET /companies/pending-company-id: Codat did not answer")

        return fails


def test_a_pass_that_cannot_read_codat_is_told_once_until_one_succeeds(tmp_path: Path) -> None:
    with receiver() as chat:
        path = notify_file(tmp_path / "n.yaml", f"{{kind: webhook, name: team, url: '{chat.url}'}}")

        async def go() -> None:
            store = NotifyStore(tmp_path / FILE_NAME)
            async with httpx.AsyncClient() as http:
                notifier = Notifier(load_config(path, {}), store, http, FreshLinks(), clock=Clock())
                converge = notifying_converge(CodatIsDown(), notifier)  # type: ignore[arg-type]
                for _ in range(3):
                    with pytest.raises(CodatError):
                        await converge(DesiredState("o", ()), None, Stopper())
                await notifier.flush()
            store.close()

        asyncio.run(go())
        (digest,) = [d.envelope for d in chat.deliveries]
        (item,) = digest["items"]
        assert item["kind"] == "pass_failed" and "(CodatError)" in item["text"]
        assert "/companies" not in item["text"]  # a path may name a pending company


@pytest.mark.parametrize(
    ("rejected", "cause"),
    [
        ("No matching signature found", "CODAT_WEBHOOK_SECRET"),
        ("Message timestamp too old", "clock"),
        ("unsigned: no webhook-id, webhook-timestamp and webhook-signature", "no signature"),
    ],
)
def test_a_refused_delivery_names_its_likely_cause(rejected: str, cause: str) -> None:
    assert cause in likely_cause(f"signature not accepted: {rejected}")


@pytest.mark.slow
def test_a_used_up_quota_reaches_the_team(tmp_path: Path) -> None:
    desired = applied_in_process(tmp_path)
    with (
        receiver() as chat,
        served_codat(tmp_path, "--daily-quota", "2") as codat,
    ):
        path = notify_file(tmp_path / "n.yaml", f"{{kind: slack, name: team, url: '{chat.url}'}}")
        with running_watch(codat, str(desired), "--resync", "1h", "--notify", str(path)) as watch:
            watch.wait_for("the quota pause", lambda s: s["quota"]["paused"], timeout=20)
            chat.wait_for(lambda got: len(got) >= 1, timeout=20)
            (message,) = [d.envelope["text"] for d in chat.deliveries]
            assert "quota_paused" in message and "daily quota is used up" in message
            assert watch.stop() == 143
