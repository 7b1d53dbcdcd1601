"""`apply --plan FILE` against the attacks and the team's day (issue 14): expired plans, another
account, config drift and replays, two plans from one state, re-runs, refusals, and what is read
as a plan. Real `reconcile` subprocesses against a served sandbox with a request log."""

from __future__ import annotations

import json
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from reconcile.sandbox.layers.requestlog import read_log
from tests.plans.file.saved_support import (
    customers_file,
    ok,
    read_plan,
    reconcile,
    refused,
    unique_owner,
)
from tests.plans.file.test_saved_apply import (
    WRITES,
    Served,
    applied_example,
    customer,
    rename_globex,
    saved_plan,
    served,
)
from tests.support.sandbox_server import serve_sandbox

__all__ = ["served"]  # the module-scoped server of test_saved_apply, shared


def config_of(served: Served, company_id: str) -> str:
    with served.http() as client:
        answer = client.get(f"/companies/{company_id}/sync/expenses/config")
        answer.raise_for_status()
        return str(answer.json()["bankAccount"]["id"])


def set_config(served: Served, company_id: str, bank_account: str) -> None:
    body = {
        k: {"id": v}
        for k, v in (("bankAccount", bank_account), ("supplier", "124"), ("customer", "140"))
    }
    with served.http() as client:
        client.post(f"/companies/{company_id}/sync/expenses/config", json=body).raise_for_status()


def test_an_expired_plan_is_refused_before_any_request(tmp_path: Path, served: Served) -> None:
    owner = unique_owner()
    path = customers_file(tmp_path, owner)
    planfile = tmp_path / "plan.json"
    ok(reconcile("plan", str(path), "--out", str(planfile), "--max-age", "1s", url=served.url))
    time.sleep(2)
    mark = served.mark()
    message = refused(reconcile("apply", "--plan", str(planfile), url=served.url))
    assert "expired at" in message and "--max-age" in message and "Make a new plan" in message
    assert served.since(mark) == []
    assert "not a duration" in refused(
        reconcile("plan", str(path), "--out", str(planfile), "--max-age", "soon", url=served.url)
    )


def test_a_plan_for_another_account_is_refused_naming_both(tmp_path: Path) -> None:
    db, log = tmp_path / "sandbox.db", tmp_path / "requests.jsonl"
    path = customers_file(tmp_path, unique_owner())
    planfile = tmp_path / "plan.json"
    with serve_sandbox(db, "--account-name", "Expenses Production") as url:
        ok(reconcile("plan", str(path), "--out", str(planfile), url=url))
    port = str(urlsplit(url).port)
    args = ("--port", port, "--account-name", "Expenses Staging", "--request-log", str(log))
    with serve_sandbox(db, *args) as same_url:
        assert same_url == url
        message = refused(reconcile("apply", "--plan", str(planfile), url=url))
    assert '"Expenses Production"' in message and '"Expenses Staging"' in message
    assert [e["method"] for e in read_log(log) if e["method"] in WRITES] == []


@pytest.mark.slow
def test_a_config_changed_behind_the_plan_makes_it_stale(tmp_path: Path, served: Served) -> None:
    owner = applied_example(tmp_path, served, authorize_globex=False)
    sawayn = served.company_of(owner, "0001")
    customer("authorize", served, sawayn["id"])
    scenario = saved_plan(tmp_path, served, owner, lambda text: text)
    kinds = {a["kind"] for c in read_plan(scenario.planfile)["changes"] for a in c["actions"]}
    assert "set_expense_config" in kinds
    set_config(served, sawayn["id"], "90")
    mark = served.mark()
    message = refused(reconcile("apply", "--plan", str(scenario.planfile), url=served.url))
    assert "changed behind the plan" in message and "expense_config" in message, message
    assert served.writes_since(mark) == []
    assert config_of(served, sawayn["id"]) == "90"


@pytest.mark.slow
def test_an_applied_plan_replayed_cannot_roll_a_config_back(tmp_path: Path, served: Served) -> None:
    owner = applied_example(tmp_path, served, authorize_globex=False)
    sawayn = served.company_of(owner, "0001")
    customer("authorize", served, sawayn["id"])
    first = saved_plan(tmp_path / "..", served, owner, lambda text: text)
    ok(reconcile("apply", "--plan", str(first.planfile), url=served.url))
    assert config_of(served, sawayn["id"]) == "89"
    old = tmp_path / "first.json"
    first.planfile.rename(old)
    second = saved_plan(tmp_path, served, owner, lambda t: t.replace('"89"', '"90"'))
    ok(reconcile("apply", "--plan", str(second.planfile), url=served.url))
    assert config_of(served, sawayn["id"]) == "90"
    mark = served.mark()
    message = refused(reconcile("apply", "--plan", str(old), url=served.url))
    assert "partly applied" in message and "set expense config" in message, message
    assert served.writes_since(mark) == []
    assert config_of(served, sawayn["id"]) == "90"


@pytest.mark.slow
@pytest.mark.parametrize("order", ["globex first", "hooli first"])
def test_two_plans_from_one_state_both_apply_in_either_order(
    tmp_path: Path, served: Served, order: str
) -> None:
    """Two pull requests planned the same day, about different customers: each merges and
    applies against the merged file (with a comment-only commit on top)."""
    owner = applied_example(tmp_path, served, authorize_globex=False)
    base = customers_file(tmp_path, owner).read_text()
    rename_hooli = lambda text: text.replace("Hooli & Partners", "Hooli Partners")  # noqa: E731
    plans = {}
    for name, edit in (("globex", rename_globex), ("hooli", rename_hooli)):
        folder = tmp_path / name
        folder.mkdir()
        customers_file(folder, owner, edit(base))
        plans[name] = folder / "plan.json"
        ok(
            reconcile(
                "plan", str(folder / "customers.yaml"), "--out", str(plans[name]), url=served.url
            )
        )
    merged = tmp_path / "merged"
    merged.mkdir()
    main = customers_file(merged, owner, "# merged\n" + rename_hooli(rename_globex(base)))
    names = ["globex", "hooli"] if order == "globex first" else ["hooli", "globex"]
    for name in names:
        result = ok(reconcile("apply", "--plan", str(plans[name]), str(main), url=served.url))
        assert "Apply complete: 0 created, 1 updated" in result.stdout, result.stdout
    assert ok(reconcile("plan", str(main), "--detailed-exitcode", url=served.url)).returncode == 0
    # A later change to a customer a plan acts on does stale it.
    main.write_text(main.read_text().replace("Hooli Partners", "Hooli Group"))
    message = refused(reconcile("apply", "--plan", str(plans["hooli"]), str(main), url=served.url))
    assert "the files changed after the plan was made" in message


@pytest.mark.slow
def test_rerunning_an_applied_plan_says_so_and_exits_0(tmp_path: Path, served: Served) -> None:
    owner = applied_example(tmp_path, served, authorize_globex=False)
    scenario = saved_plan(tmp_path, served, owner, rename_globex)
    ok(reconcile("apply", "--plan", str(scenario.planfile), url=served.url))
    mark = served.mark()
    again = ok(reconcile("apply", "--plan", str(scenario.planfile), url=served.url))
    assert "already applied: nothing to do" in again.stdout
    args = ("apply", "--plan", str(scenario.planfile), "--format", "json")
    document = json.loads(ok(reconcile(*args, url=served.url)).stdout)
    assert document["status"] == "already_applied" and document["exit_code"] == 0
    assert served.writes_since(mark) == []


@pytest.mark.slow
def test_the_plans_refusals_are_listed_counted_and_exit_2_on_request(
    tmp_path: Path, served: Served
) -> None:
    owner = applied_example(tmp_path, served, authorize_globex=False)

    def edit(text: str) -> str:
        deleted = text.replace("    expenses: false ", "    state: deleted\n    expenses: false ")
        return rename_globex(deleted)

    scenario = saved_plan(tmp_path, served, owner, edit)
    assert len(read_plan(scenario.planfile)["refused"]) == 1
    args = ("apply", "--plan", str(scenario.planfile), "--detailed-exitcode", "--format", "json")
    result = ok(reconcile(*args, url=served.url), 2)
    document = json.loads(result.stdout)
    assert document["summary"]["refused_by_plan"] == 1 and document["exit_code"] == 2
    assert [r["uid"] for r in document["plan_refusals"]] == [f"{owner}-0005"]
    assert "Refused by the plan, not applied (1):" in result.stderr
    assert "0 skipped; 1 refused by the plan." in result.stderr
    rerun = ok(reconcile("apply", "--plan", str(scenario.planfile), url=served.url))
    assert "Refused by the plan, not applied (1):" in rerun.stdout


def test_a_file_meant_as_a_plan_is_never_planned_as_yaml(tmp_path: Path, served: Served) -> None:
    broken = tmp_path / "plan.json"
    broken.write_text('{"format_version": "1", "saved_plan": true, "owner": "x"')
    mark = served.mark()
    result = reconcile("apply", str(broken), "--auto-approve", url=served.url)
    assert "not a plan file (not JSON" in refused(result)
    assert "Reading" not in result.stderr + result.stdout
    yaml = customers_file(tmp_path, unique_owner())
    assert "not a plan file" in refused(reconcile("apply", "--plan", str(yaml), url=served.url))
    assert served.since(mark) == []


@pytest.mark.slow
def test_a_plan_reformatted_by_jq_is_still_recognised_and_applies(
    tmp_path: Path, served: Served
) -> None:
    """`jq -S .` moves format_version past the changes; the content still says "plan", and the
    signature covers meaning, not layout."""
    owner = applied_example(tmp_path, served, authorize_globex=False)
    scenario = saved_plan(tmp_path, served, owner, rename_globex)
    doc = json.loads(scenario.planfile.read_text())
    scenario.planfile.write_text(json.dumps(doc, sort_keys=True, indent=2))
    assert scenario.planfile.read_text().index('"format_version"') > 4096
    result = ok(reconcile("apply", str(scenario.planfile), url=served.url))
    assert "Apply complete: 0 created, 1 updated" in result.stdout


@pytest.mark.slow
def test_apply_of_files_counts_refusals_too(tmp_path: Path, served: Served) -> None:
    owner = applied_example(tmp_path, served, authorize_globex=False)
    text = customers_file(tmp_path, owner).read_text()
    path = customers_file(
        tmp_path,
        owner,
        rename_globex(text).replace(
            "    expenses: false ", "    state: deleted\n    expenses: false "
        ),
    )
    args = ("apply", str(path), "--auto-approve", "--detailed-exitcode")
    result = ok(reconcile(*args, url=served.url), 2)
    assert "Refused by the plan, not applied (1):" in result.stdout
    assert f"{owner}-0005" in result.stdout and "--allow-delete" in result.stdout
    # Nothing left to change, the refusal stays: still exit 2, still listed.
    again = ok(reconcile(*args, "--format", "json", url=served.url), 2)
    assert json.loads(again.stdout)["summary"]["refused_by_plan"] == 1
