"""`apply` hands the operator the Link URL of every accounting connection it creates (issue 16
item 5), in text and in `--format json` with the connection's id; real subprocesses against the
served sandbox."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.saved_support import customers_file, ok, reconcile, unique_owner

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def test_json_names_each_created_connection_and_its_link_url(
    tmp_path: Path, sandbox_url: str
) -> None:
    owner = unique_owner("links")
    path = customers_file(tmp_path, owner)
    args = ("apply", str(path), "--auto-approve", "--format", "json")
    document = json.loads(ok(reconcile(*args, url=sandbox_url)).stdout)
    created = [
        (c, a)
        for c in document["customers"]
        for a in c["actions"]
        if a["kind"] == "create_connection"
    ]
    assert len(created) == 6
    for company, action in created:
        assert re.fullmatch(UUID, action["connection_id"]), action
        link = action["link_url"]
        assert link.startswith("http") and company["company_id"] in link, action
        assert action["connection_id"] in link
    others = [
        a for c in document["customers"] for a in c["actions"] if a["kind"] != "create_connection"
    ]
    assert all(a["link_url"] is None for a in others)


def test_text_lists_the_link_urls_after_the_run(tmp_path: Path, sandbox_url: str) -> None:
    owner = unique_owner("links")
    path = customers_file(tmp_path, owner)
    result = ok(reconcile("apply", str(path), "--auto-approve", url=sandbox_url))
    summary = result.stdout.split("Awaiting customer authorization (6):", 1)[1]
    lines = [line for line in summary.splitlines() if line.startswith("  ")]
    assert len(lines) == 6
    assert all(re.search(rf"accounting connection .* http\S+/{UUID}/\S+", line) for line in lines)
    assert f'{owner}-0001 "Sawayn Group"  accounting connection QuickBooks Online (qhyg)' in summary
    # Nothing more to create: the plan still lists who is awaited, and apply creates nothing.
    again = ok(reconcile("apply", str(path), "--auto-approve", url=sandbox_url))
    assert "created accounting connection" not in again.stdout + again.stderr
