"""Issue 25, case 11, on a served messy fleet (`sandbox seed --messy`, `export --adopt`, applied):
two pull requests planned from one drifted state no longer block each other. Both saved plans
carry the same drift fix; once the first is applied, the second counts that fix as done and
applies its own change (exit 0). A customer changed behind the plan is still held (exit 1)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import AUTH_HEADERS
from tests.plans.file.saved_support import ok, reconcile, refused
from tests.support.messy import AdoptedFleet

OWNER = "ops"
pytestmark = pytest.mark.slow


class Fleet(AdoptedFleet):
    def rename_in_portal(self, uid: str, name: str) -> None:
        company = self.company(uid)
        body = {
            "name": name,
            "description": company.get("description") or "",
            "tags": company["tags"],
        }
        with httpx.Client(base_url=self.url, headers=AUTH_HEADERS, timeout=30) as http:
            http.put(f"/companies/{company['id']}", json=body).raise_for_status()

    def renamed_in_file(self, name: str, renames: dict[str, str]) -> Path:
        """A pull request's file: these customers renamed (their `name:` line replaced)."""
        lines = self.file.read_text().splitlines()
        current = None
        for i, line in enumerate(lines):
            if line.startswith("  - uid: "):
                current = line.split("uid: ", 1)[1]
            elif current in renames and line.startswith("    name: "):
                lines[i] = f"    name: {renames[current]}"
        path = self.tmp / name
        path.write_text("\n".join(lines) + "\n")
        return path

    def saved_plan(self, path: Path, out: str, *uids: str) -> Path:
        planfile = self.tmp / out
        targets = [arg for uid in uids for arg in ("--target", uid)]
        ok(reconcile("plan", str(path), *targets, "--out", str(planfile), url=self.url))
        return planfile


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    yield from Fleet.adopted(tmp_path_factory.mktemp("messy-partly"), OWNER)


def test_two_pull_requests_from_one_drifted_state_both_apply(fleet: Fleet) -> None:
    name = fleet.company("cus-00002")["name"]
    fleet.rename_in_portal("cus-00002", "Drifted Name")  # the drift both plans will fix
    first = fleet.saved_plan(fleet.file, "first.json", "cus-00002")
    pr = fleet.renamed_in_file("pr.yaml", {"cus-00003": "Renamed In Review"})
    second = fleet.saved_plan(pr, "second.json", "cus-00002", "cus-00003")

    ok(reconcile("apply", str(first), url=fleet.url))
    assert fleet.company("cus-00002")["name"] == name
    applied = ok(reconcile("apply", str(second), url=fleet.url))
    assert "partly applied: 1 of 2 actions already landed" in applied.stderr, applied.stderr
    assert "Apply complete: 0 created, 1 updated" in applied.stdout, applied.stdout
    assert fleet.company("cus-00003")["name"] == "Renamed In Review"
    after = reconcile("plan", str(pr), "--detailed-exitcode", "--target", "cus-00002",
                      "--target", "cus-00003", url=fleet.url)  # fmt: skip
    assert after.returncode == 0, after.stdout + after.stderr


def test_a_customer_changed_behind_the_plan_is_still_held(fleet: Fleet) -> None:
    """The control: of a partly applied plan, the customer changed in the portal since the plan
    is not touched (named, exit 1); the others' reviewed changes are made."""
    fleet.rename_in_portal("cus-00005", "Drifted Again")
    pr = fleet.renamed_in_file("held.yaml", {"cus-00006": "Six Renamed", "cus-00007": "Seven"})
    uids = ("cus-00005", "cus-00006", "cus-00007")
    held = fleet.saved_plan(pr, "held.json", *uids)
    ok(
        reconcile(
            "apply", str(fleet.saved_plan(fleet.file, "fix.json", "cus-00005")), url=fleet.url
        )
    )
    fleet.rename_in_portal("cus-00007", "Edited In The Portal")

    message = refused(reconcile("apply", str(held), url=fleet.url))
    assert "partly applied: 1 of 3 actions already landed" in message, message
    assert "1 remaining action(s) not applied" in message and "cus-00007" in message, message
    assert '"Edited In The Portal"' in message, message
    assert fleet.company("cus-00006")["name"] == "Six Renamed"
    assert fleet.company("cus-00007")["name"] == "Edited In The Portal"
