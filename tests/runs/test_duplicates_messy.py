"""Issue 25, case 2: a duplicate says which twin to keep and how to resolve it, in the plan's
refusal and every format of the audit, on a served messy fleet (`sandbox seed --messy`, then
`export --adopt`): the twin holding the customer's connections first, each with its creation
date and connections; `id:` that twin settles it."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.audit.test_audit_cli import SCHEMA as AUDIT_SCHEMA
from tests.support.cli import codat_env, reconcile
from tests.support.messy import export_adopted, listed_companies, served_messy

OWNER = "ops"
pytestmark = pytest.mark.slow


@dataclass
class Fleet:
    url: str
    file: Path
    uid: str  # the duplicated uid
    keep: str  # the twin holding Linked Xero and the partner expense connection
    extra: str  # the empty twin, made later


def _twins(url: str) -> tuple[str, str, str]:
    companies = listed_companies(url)
    by_uid: dict[str, list[dict[str, Any]]] = {}
    for c in companies:
        tags = c.get("tags") or {}
        if tags.get("reconcile.owner") == OWNER and "reconcile.uid" in tags:
            by_uid.setdefault(tags["reconcile.uid"], []).append(c)
    [(uid, twins)] = [(u, t) for u, t in by_uid.items() if len(t) == 2]
    [keep] = [t for t in twins if t.get("dataConnections")]
    [extra] = [t for t in twins if not t.get("dataConnections")]
    return uid, keep["id"], extra["id"]


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    tmp = tmp_path_factory.mktemp("messy-duplicates")
    with served_messy(tmp, OWNER, 30) as url:
        out = export_adopted(url, OWNER, tmp / "adopted.yaml")
        yield Fleet(url, out, *_twins(url))


HIDDEN = "(id hidden)"  # reconcile.render.bearer: an id that may be a Link URL, in a shared output


def _says_which_twin(fleet: Fleet, said: str, *, keep: bool = True, extra: bool = True) -> None:
    """The twins keeper first, each with its creation date and connections, and the way out.
    `keep`/`extra`: whether that twin's id is shown; a shared output hides the id of a company
    no accounting platform is linked to (it is a Link URL), and Markdown hides every id."""
    keep_id = fleet.keep if keep else HIDDEN
    extra_id = fleet.extra if extra else HIDDEN
    assert f"2 companies carry reconcile.uid={fleet.uid}: {keep_id} " in said, said
    keep_at = said.index(f"{keep_id} ")
    extra_at = said.index(f"{extra_id} ", keep_at + len(keep_id))
    twins = said[keep_at : said.index("To resolve")]
    assert len(re.findall(r"\(created \d{4}-\d\d-\d\dT", twins)) == 2, twins
    assert "Linked accounting connection Xero (gbol)" in twins[: extra_at - keep_at], twins
    assert "no connections" in twins[extra_at - keep_at :], twins
    assert f"keep {keep_id}, which holds the customer's connections" in said, said
    assert f"delete {extra_id} in the Codat portal" in said, said
    assert f"write `id: {keep_id}` on customer {fleet.uid}" in said, said
    if not extra:  # the control: the hidden id really is absent
        assert fleet.extra not in said, said


def test_the_plan_refusal_names_the_twin_to_keep(fleet: Fleet) -> None:
    plan = reconcile("plan", str(fleet.file), "--detailed-exitcode", env=codat_env(fleet.url))
    assert plan.returncode == 2, plan.stderr
    [line] = [ln for ln in plan.stdout.splitlines() if f"{fleet.uid} " in ln and "duplicate" in ln]
    _says_which_twin(fleet, line, extra=False)  # the keeper is Linked: its id is no Link URL
    doc = json.loads(
        reconcile("plan", str(fleet.file), "--format", "json", env=codat_env(fleet.url)).stdout
    )
    [refusal] = [r for r in doc["refused"] if r["uid"] == fleet.uid]
    _says_which_twin(fleet, refusal["reason"])
    markdown = reconcile("plan", str(fleet.file), "--format", "markdown", env=codat_env(fleet.url))
    assert markdown.returncode == 0, markdown.stderr
    _says_which_twin(
        fleet, html.unescape(markdown.stdout).replace("\\", ""), keep=False, extra=False
    )


@pytest.mark.parametrize("fmt", ["text", "markdown", "json"])
def test_every_audit_format_names_the_twin_to_keep(fleet: Fleet, fmt: str) -> None:
    audit = reconcile("audit", str(fleet.file), "--format", fmt, env=codat_env(fleet.url))
    assert audit.returncode == 2, audit.stderr
    if fmt != "json":
        said = html.unescape(audit.stdout).replace("\\", "")
        _says_which_twin(fleet, said, keep=fmt == "text", extra=False)
        return
    doc = json.loads(audit.stdout)
    jsonschema.validate(doc, AUDIT_SCHEMA, cls=jsonschema.Draft202012Validator)
    [dup] = [f for f in doc["findings"] if f["kind"] == "duplicates"]
    _says_which_twin(fleet, dup["detail"])
    facts = dup["facts"]
    assert dup["company_id"] == facts["keep"] == fleet.keep
    assert facts["company_ids"] == [fleet.keep, fleet.extra] and facts["named_by_id"] is None
    keep, extra = facts["twins"]
    assert keep["created"] < extra["created"]
    assert {c["status"] for c in keep["connections"]} == {"Linked"} and not extra["connections"]


def test_id_of_the_right_twin_settles_it(fleet: Fleet, tmp_path: Path) -> None:
    """The resolution the finding offers works: the customer is planned against that twin (no
    change, no refusal), the other is left alone with a warning; without `id:` it is refused."""
    text = fleet.file.read_text()
    entry = f"  - uid: {fleet.uid}\n"
    assert entry in text
    # export's comment at the entry offers the same resolution
    assert f"delete {fleet.extra} in the Codat portal" in text
    assert f"write `id: {fleet.keep}` on this entry" in text
    settled = tmp_path / "settled.yaml"
    settled.write_text(text.replace(entry, f"{entry}    id: {fleet.keep}\n"))
    for path, refused in ((fleet.file, True), (settled, False)):
        doc = json.loads(
            reconcile("plan", str(path), "--format", "json", env=codat_env(fleet.url)).stdout
        )
        assert any(r["uid"] == fleet.uid for r in doc["refused"]) is refused, doc["refused"]
        assert not [c for c in doc["changes"] if c["uid"] == fleet.uid], doc["changes"]
    warnings = " ".join(doc["warnings"])
    assert f"{fleet.extra} also carries reconcile.uid={fleet.uid}" in warnings, warnings
    audit = json.loads(
        reconcile("audit", str(settled), "--format", "json", env=codat_env(fleet.url)).stdout
    )
    [dup] = [f for f in audit["findings"] if f["kind"] == "duplicates"]
    assert dup["facts"]["named_by_id"] == fleet.keep
    assert f"leaves {fleet.extra} alone" in dup["detail"]
