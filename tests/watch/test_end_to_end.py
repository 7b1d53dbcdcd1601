"""End to end on the served sandbox with its webhooks: `watch --register` makes the consumer, the
customer authorizes, and within 5 seconds the watch has made the partner expense connection and
set the expense config, and nothing else (a rename waiting in the file waits for review)."""

from __future__ import annotations

import json
import time
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import reconcile
from tests.watch.helpers import (
    OWNER,
    WATCHED,
    Codat,
    Watch,
    free_port,
    running_watch,
    served_codat,
    write_file,
)

pytestmark = pytest.mark.slow


def listening(
    codat: Codat, desired: Path, port: int, consumer: dict[str, Any], *args: str
) -> AbstractContextManager[Watch]:
    """The watch of `desired` on `port`, where the `consumer` registered for it sends, signing
    with its secret; its state in `.reconcile` beside the file (where `--register` left it)."""
    return running_watch(
        codat,
        str(desired),
        "--listen",
        f"127.0.0.1:{port}",
        *args,
        secret=consumer["secret"],
        cwd=desired.parent,
    )


@pytest.mark.parametrize("headers", [(), ("--webhook-svix-headers",)], ids=["webhook", "svix"])
def test_authorization_is_followed_up_within_five_seconds(
    tmp_path: Path, headers: tuple[str, ...]
) -> None:
    with served_codat(tmp_path, *headers) as codat:
        desired = write_file(tmp_path / "customers.yaml")
        assert reconcile("apply", str(desired), "--auto-approve", env=codat.env()).returncode == 0
        desired.write_text(WATCHED.replace("Watched Two", "Watched Two Ltd"), "utf-8")
        port = free_port()
        url = f"http://127.0.0.1:{port}/webhooks/codat"

        # First run: the consumer is registered; with no secret yet the watch says where it is.
        first = reconcile("watch", str(desired), "--register", url, env=codat.env(), cwd=tmp_path)
        assert first.returncode == 1, first.stderr
        assert "created webhook consumer" in first.stderr
        assert "reconcile sandbox webhooks" in first.stderr
        assert "CODAT_WEBHOOK_SECRET" in first.stderr and "Traceback" not in first.stderr
        listed = reconcile("sandbox", "webhooks", "--db", str(codat.db), "--json")
        (consumer,) = json.loads(listed.stdout)
        assert consumer["url"] == url
        assert consumer["companyTags"] == [f"reconcile.owner:{OWNER}"]
        assert "connection.connected" in consumer["eventTypes"]
        assert (tmp_path / ".reconcile" / "webhook-consumers.json").stat().st_mode & 0o077 == 0

        with listening(
            codat, desired, port, consumer, "--register", url, "--resync", "1h"
        ) as watch:
            watch.wait_for("the first full pass", watch.passes_after(0))
            watch.said("already sends")  # registered once, not twice
            assert (
                len(
                    json.loads(
                        reconcile("sandbox", "webhooks", "--db", str(codat.db), "--json").stdout
                    )
                )
                == 1
            )
            review = watch.status()["waiting"]["review"]
            assert [w["uid"] for w in review] == ["w-2"]
            mark = len(codat.requests())
            passes = watch.status()["passes"]
            started = time.monotonic()
            authorized = reconcile("sandbox", "authorize", "--db", str(codat.db), "--uid", "w-1")
            assert authorized.returncode == 0, authorized.stderr
            company = codat.company_id("w-1")
            watch.wait_for(
                "the follow-ups",
                lambda s: s["passes"] > passes and len(codat.writes_since(mark)) >= 2,
                timeout=5,
            )
            assert time.monotonic() - started < 5
            writes = codat.writes_since(mark)
            assert sorted(w["path"] for w in writes) == [
                f"/companies/{company}/sync/expenses/config",
                f"/companies/{company}/sync/expenses/connections/partnerExpense",
            ]
            assert codat.company("w-2")["name"] == "Watched Two"  # the rename waits
            assert [w["uid"] for w in watch.status()["waiting"]["review"]] == ["w-2"]
            assert watch.stop() == 143


def test_with_every_delivery_dropped_the_resync_does_it(tmp_path: Path) -> None:
    with served_codat(tmp_path, "--webhook-drop-rate", "1", "--seed", "1") as codat:
        desired = write_file(tmp_path / "customers.yaml")
        assert reconcile("apply", str(desired), "--auto-approve", env=codat.env()).returncode == 0
        port = free_port()
        url = f"http://127.0.0.1:{port}/webhooks/codat"
        registered = reconcile(
            "watch", str(desired), "--register", url, env=codat.env(), cwd=tmp_path
        )
        assert "created webhook consumer" in registered.stderr
        listed = reconcile("sandbox", "webhooks", "--db", str(codat.db), "--json")
        (consumer,) = json.loads(listed.stdout)
        with listening(codat, desired, port, consumer, "--resync", "3s") as watch:
            watch.wait_for("the first full pass", watch.passes_after(0))
            assert (
                reconcile("sandbox", "authorize", "--db", str(codat.db), "--uid", "w-1").returncode
                == 0
            )
            watch.wait_for(
                "the resync to make w-1's follow-ups",
                lambda s: not any(w["uid"] == "w-1" for w in s["waiting"]["customer"]),
                timeout=15,
            )
            time.sleep(0.5)
            kinds = [c["sourceType"] for c in codat.company("w-1")["dataConnections"]]
            assert kinds.count("Expense") == 1
            delivered = watch.get("/metrics").text
            assert 'reconcile_watch_webhook_deliveries_total{outcome="accepted"} 0.0' in delivered
