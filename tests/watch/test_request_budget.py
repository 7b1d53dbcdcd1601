"""The request budget on a real `reconcile watch` against a served sandbox: /status, /metrics and
the status page say how many requests the watch sent today (UTC) against its budget (10% of
Codat's client limit by default, or `--request-budget`), and the figure is the sandbox's own
count of what the watch sent."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs

import httpx
import pytest

from tests.support.cli import reconcile
from tests.watch.helpers import applied, connection_event, running_watch, served_codat
from tests.watch.test_resync import samples

pytestmark = pytest.mark.slow


def test_status_and_metrics_show_requests_today_against_the_budget(tmp_path: Path) -> None:
    with served_codat(tmp_path) as codat:
        desired = applied(codat, tmp_path)
        authorized = reconcile("sandbox", "authorize", "--db", str(codat.db), "--uid", "w-1")
        assert authorized.returncode == 0, authorized.stderr
        before = len(codat.requests())
        with running_watch(codat, str(desired), "--resync", "1h") as watch:
            watch.wait_for("the first full pass", watch.passes_after(0))
            spent = len(codat.requests()) - before  # what the sandbox saw the watch send
            requests = watch.status()["requests"]
            assert requests["requests_today"] == spent > 0
            # One active company (w-1 Linked): the client limit is the floor, 1,000; 10% of it.
            assert requests["active_companies"] == 1
            assert (requests["client_limit"], requests["budget"]) == (1000, 100)
            assert requests["config_sweep"]["due"] == 1  # w-1: Linked, with a config
            assert requests["config_sweep"]["period_seconds"] == 86_400

            values = samples(watch.get("/metrics").text)
            assert values[("reconcile_watch_requests_today", ())] == spent
            assert values[("reconcile_watch_request_budget", ())] == 100
            assert values[("reconcile_watch_client_limit", ())] == 1000
            assert values[("reconcile_watch_config_sweep_slowed", ())] == 0

            page = httpx.get(watch.status_url + "/", timeout=10).text
            assert "Codat requests" in page
            assert f"{spent:,} of a budget of 100" in page

            # A webhook's pass reads only its company, and counts in today's requests.
            company = codat.company_id("w-2")
            mark = len(codat.requests())
            passes = watch.status()["passes"]
            assert watch.deliver(connection_event(company)).json()["outcome"] == "accepted"
            watch.wait_for("the webhook's pass", watch.passes_after(passes))
            sent = codat.requests()[mark:]
            assert sent
            for request in sent:
                twins = parse_qs(request["query"]).get("tags") == ["reconcile.uid=w-2"]
                assert request["path"].startswith(f"/companies/{company}") or twins, request
            assert watch.status()["requests"]["requests_today"] == spent + len(sent)
            assert watch.stop() == 143

        # --request-budget in requests a day, and the sweep's period.
        with running_watch(
            codat, str(desired), "--request-budget", "25000", "--config-sweep", "12h"
        ) as watch:
            watch.wait_for("the first full pass", watch.passes_after(0))
            requests = watch.status()["requests"]
            assert requests["budget"] == 25_000 and requests["client_limit"] == 1000
            assert requests["config_sweep"]["period_seconds"] == 43_200
            assert "25,000 requests a day" in requests["setting"]


def test_a_bad_request_budget_is_refused_before_any_request(tmp_path: Path) -> None:
    with served_codat(tmp_path) as codat:
        desired = tmp_path / "customers.yaml"
        desired.write_text("version: 1\nowner: o\ncustomers: []\n", encoding="utf-8")
        for bad in ("150%", "0", "lots"):
            result = reconcile("watch", str(desired), "--request-budget", bad, env=codat.env())
            assert result.returncode == 2 and "--request-budget" in result.stderr, bad
            assert "Traceback" not in result.stderr
        assert codat.requests() == []
