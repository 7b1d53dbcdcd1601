"""`show`, `audit` and `plan --format json` print no raw C1 or bidi control from Codat: the
characters arrive as `\\uXXXX` escapes, the same JSON (issue 15, point 9)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx

from tests.plans.file.saved_support import ok, reconcile, unique_owner

# C1 (NEL, CSI), bidi overrides and isolates, zero-width, line separator, DEL.
HOSTILE = "a\u0085b\u009b31m\u202eevil\u2066x\u200by\u2028z\x7f"
RAW = re.compile("[\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069]")


def test_json_outputs_escape_controls_from_codat(
    tmp_path: Path, sandbox_url: str, codat: httpx.Client
) -> None:
    owner = unique_owner("jsonesc")
    tags = {"reconcile.owner": owner, "reconcile.uid": f"{owner}-1", "note": HOSTILE}
    created = codat.post("/companies", json={"name": "Acme", "tags": tags})
    assert created.status_code == 200, created.text
    assert created.json()["tags"]["note"] == HOSTILE
    # An orphan (its uid left the file): audit names it, with the name Codat kept.
    orphan_tags = {"reconcile.owner": owner, "reconcile.uid": f"{owner}-2"}
    orphan = codat.post("/companies", json={"name": f"Orphan {HOSTILE}", "tags": orphan_tags})
    kept = orphan.json()["name"]
    assert RAW.search(kept), kept  # Codat strips some characters, not these
    desired = tmp_path / "customers.yaml"
    desired.write_text(
        f"version: 1\nowner: {owner}\ncustomers:\n  - uid: {owner}-1\n    name: Acme\n"
    )
    saved = tmp_path / "saved.plan"
    outputs = {
        "plan": ok(
            reconcile(
                "plan", str(desired), "--out", str(saved), "--format", "json", url=sandbox_url
            )
        ).stdout,
        "audit": reconcile("audit", str(desired), "--format", "json", url=sandbox_url).stdout,
    }
    outputs["show"] = ok(reconcile("show", str(saved), "--format", "json", url=None)).stdout
    outputs["saved file"] = saved.read_text(encoding="utf-8")
    for what, output in outputs.items():
        assert not RAW.search(output), (what, RAW.findall(output))
        document = json.loads(output)  # still JSON, meaning the same
        meant = json.dumps(document, ensure_ascii=False)
        assert (kept if what == "audit" else HOSTILE) in meant, what
