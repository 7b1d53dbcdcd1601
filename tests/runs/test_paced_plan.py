"""A full plan paced to the limit a minute (`--requests-per-minute`) against a served sandbox that
enforces one (`--minute-limit`): it reads every config and meets no 429; paced tighter than
its reads need, the request past the pace is never sent (the deadline comes first) and still no
429; unpaced, the same plan again within the minute is refused (the control: the sandbox's limit
is real). Real `reconcile` subprocesses; each run has a key of its own, so the sandbox counts
its minute apart (per key) and one served sandbox serves all three."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from reconcile import paths
from reconcile.model import OWNER_TAG, UID_TAG
from reconcile.sandbox.layers.requestlog import read_log
from reconcile.sandbox.store import Store
from reconcile.sandbox.store.clock import advance
from tests.support.cli import codat_env, reconcile
from tests.support.sandbox_server import serve_sandbox

OWNER = "paced"
FLEET = 11
READS = 2 + FLEET  # the account, one page of the listing and every configured customer's config
WIRE_CONFIG = {"bankAccount": {"id": "89"}, "supplier": {"id": "124"}, "customer": {"id": "140"}}


def entry(n: int) -> str:
    return (
        f"  - uid: cus-{n:02d}\n    name: Customer {n}\n    accounting: xero\n"
        '    expenses: true\n    expenseConfig: {bankAccount: "89", supplier: "124", '
        'customer: "140"}\n'
    )


def seed(db: Path) -> dict[str, str]:
    """FLEET customers set up as the file says (accounting and partner expense Linked, the
    config set): a full plan reads each one's config and changes nothing. Their ids by uid."""
    store = Store(db)
    ids = {}
    try:
        for n in range(1, FLEET + 1):
            uid = f"cus-{n:02d}"
            company = store.create_company(f"Customer {n}", tags={OWNER_TAG: OWNER, UID_TAG: uid})
            conn = store.create_connection(company["id"], "gbol", "http://127.0.0.1:8765")
            store.set_connection_status(company["id"], conn["id"], "Linked")
            store.create_partner_expense_connection(company["id"], "http://127.0.0.1:8765")
            store.set_expense_config(company["id"], WIRE_CONFIG)
            ids[uid] = company["id"]
    finally:
        store.close()
    return ids


@dataclass
class Served:
    url: str
    log: Path
    file: Path
    ids: dict[str, str]

    def plan(
        self, key: str, *args: str, env: dict[str, str] | None = None
    ) -> tuple[Any, list[dict[str, Any]]]:
        """`reconcile plan FILE ARGS` with `key` (and `env`); its result and the requests it
        sent."""
        mark = len(read_log(self.log))
        result = reconcile(
            "plan", str(self.file), *args, env={**codat_env(self.url, key), **(env or {})}
        )
        assert "Traceback" not in result.stderr, result.stderr
        return result, read_log(self.log)[mark:]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("paced")
    db, log, file = folder / "sandbox.db", folder / "requests.jsonl", folder / "customers.yaml"
    file.write_text(
        f"version: 1\nowner: {OWNER}\ncustomers:\n" + "".join(entry(n) for n in range(1, FLEET + 1))
    )
    ids = seed(db)
    # A minute of the sandbox's clock starts now: the runs below, within seconds, share it.
    advance(db, 60 - time.time() % 60)
    with serve_sandbox(db, "--minute-limit", str(READS), "--request-log", str(log)) as url:
        yield Served(url, log, file, ids)


def test_paced_to_the_limit_the_plan_reads_every_config_and_meets_no_429(served: Served) -> None:
    result, sent = served.plan("paced-key", "--requests-per-minute", str(READS))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No changes" in result.stdout, result.stdout
    assert "could not read" not in result.stdout + result.stderr
    assert [e["status"] for e in sent] == [200] * READS
    configs = sorted(e["path"] for e in sent if e["path"].endswith("/sync/expenses/config"))
    assert configs == sorted(paths.expense_config(i) for i in served.ids.values())


def test_paced_tighter_the_request_past_the_pace_is_never_sent(served: Served) -> None:
    pace = READS - 4
    pace_env = {"RECONCILE_REQUESTS_PER_MINUTE": str(pace)}  # the option's variable
    result, sent = served.plan("tight-key", "--timeout", "20", env=pace_env)
    assert len(sent) == pace and {e["status"] for e in sent} == {200}  # no 429, none past pace
    out = result.stdout + result.stderr
    # The reads whose turn would come a minute later are left out at once, and say why.
    assert out.count("(--requests-per-minute) came after it, so it was not sent") == 4, out


def test_control_unpaced_the_same_plan_again_within_the_minute_gets_429(served: Served) -> None:
    first, sent = served.plan("unpaced-key", "--requests-per-minute", "0")
    assert first.returncode == 0 and [e["status"] for e in sent] == [200] * READS
    again, sent = served.plan("unpaced-key", "--requests-per-minute", "0", "--timeout", "3")
    assert sent and sent[0]["status"] == 429  # over the sandbox's limit for this minute
    assert again.returncode != 0
