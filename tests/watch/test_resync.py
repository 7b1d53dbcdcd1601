"""The timer, not the webhook, is the safety net: with no delivery at all, the resync converges.
/metrics parses as Prometheus text and counts what happened; /status says who must act, and
never carries a Link URL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.cli import reconcile
from tests.watch.helpers import connection_event, running_watch, served_codat, write_file

pytestmark = pytest.mark.slow


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_resync_covers_a_dropped_delivery_and_reports_it(tmp_path: Path) -> None:
    with served_codat(tmp_path) as codat:
        desired = write_file(tmp_path / "customers.yaml")
        assert reconcile("apply", str(desired), "--auto-approve", env=codat.env()).returncode == 0
        link_urls = [c["linkUrl"] for c in codat.company("w-2")["dataConnections"]]
        assert link_urls and all(link_urls)
        with running_watch(codat, str(desired), "--resync", "2s") as watch:
            watch.wait_for("the first full pass", lambda s: s["last_good_resync"] is not None)
            assert watch.get("/healthz").text == "ok\n"
            authorized = reconcile("sandbox", "authorize", "--db", str(codat.db), "--uid", "w-1")
            assert authorized.returncode == 0, authorized.stderr
            # No delivery: the webhook was lost. The next resync finds the authorization.
            watch.wait_for(
                "the resync to converge w-1",
                lambda s: not any(w["uid"] == "w-1" for who in s["waiting"].values() for w in who),
                timeout=20,
            )
            connections = codat.company("w-1")["dataConnections"]
            assert sum(c["sourceType"] == "Expense" for c in connections) == 1
            assert watch.deliver(connection_event("not-ours")).json()["outcome"] == "accepted"
            assert watch.deliver({"eventType": "read.completed"}).json()["outcome"] == "ignored"

            status_text = watch.get("/status").text
            status = watch.status()
            assert [w["uid"] for w in status["waiting"]["customer"]] == ["w-2"]
            assert status["waiting"]["review"] == [] and status["waiting"]["person"] == []
            assert status["quota"] == {"paused": False, "until": None}
            assert "linkUrl" not in status_text and "link_url" not in status_text
            assert not any(url in status_text for url in link_urls)

            metrics = watch.get("/metrics")
            assert metrics.headers["content-type"].startswith("text/plain")
            values = samples(metrics.text)
            action = (("kind", "create_partner_expense"), ("outcome", "applied"))
            assert values[("reconcile_watch_actions_total", action)] == 1
            config = (("kind", "set_expense_config"), ("outcome", "applied"))
            assert values[("reconcile_watch_actions_total", config)] == 1
            assert values[("reconcile_watch_waiting", (("reason", "customer"),))] == 1
            assert (
                values[("reconcile_watch_webhook_deliveries_total", (("outcome", "accepted"),))]
                == 1
            )
            assert (
                values[("reconcile_watch_webhook_deliveries_total", (("outcome", "ignored"),))] == 1
            )
            passes = "reconcile_watch_passes_total"
            assert values[(passes, (("outcome", "ok"), ("scope", "full")))] == 1  # the start's
            assert values[(passes, (("outcome", "ok"), ("scope", "resync")))] >= 1
            assert values[("reconcile_watch_last_good_resync_timestamp_seconds", ())] > 0
            assert values[("reconcile_watch_quota_paused", ())] == 0

            # w-2 awaits authorization: its company id is a Link URL. A delivery naming it
            # sends it through a pass; /status, /metrics and the log never show it.
            pending_id = codat.company_id("w-2")
            passes = watch.status()["passes"]
            assert watch.deliver(connection_event(pending_id)).json()["outcome"] == "accepted"
            watch.wait_for("the pass of w-2's company", watch.passes_after(passes))
            watch.said("pass of 1 company")
            shared = watch.get("/status").text + watch.get("/metrics").text + watch.log()
            assert not [leak for leak in (pending_id, *link_urls) if leak in shared]
        # The control: where only its owner reads, the same id and Link URLs are there.
        links = tmp_path / "links.json"
        converged = reconcile(
            "converge", str(desired), "--link-urls-out", str(links), env=codat.env()
        )
        assert converged.returncode == 0, converged.stderr
        [entry] = json.loads(links.read_text())
        assert entry["company_id"] == pending_id and entry["link_url"] in link_urls
        assert pending_id not in converged.stdout + converged.stderr
