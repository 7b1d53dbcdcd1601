"""The promotion kit (examples/ci/promote*.yml): test first, prod only after test's apply of the
same commit succeeded, each job with only its own account's key; its `reconcile` lines run in
order against two served sandboxes standing for the test and production accounts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.ci.test_ci_kit import CI, github_steps, reconcile_lines, run_lines
from tests.conftest import AUTH_HEADERS, TEST_API_KEY
from tests.plans.file.saved_support import TEST_SIGNING_KEY
from tests.support.sandbox_server import serve_sandbox

GITHUB = CI / "promote.yml"
GITLAB = CI / "promote.gitlab-ci.yml"
OWNER = "promote-kit"
FILE = """\
version: 1
owner: {owner}
environments:
  test: {{account: "Acme (test)", api_key_env: CODAT_API_KEY_TEST, base_url: "{test}"}}
  prod: {{account: "Acme", api_key_env: CODAT_API_KEY_PROD, base_url: "{prod}"}}
promote: [test, prod]
customers:
  - uid: p-0001
    name: Promoted Ltd
    accounting: xero
    overrides:
      test: {{accounting: quickbooks-online}}
  - uid: p-0002
    name: Tried In Test Ltd
    environments: [test]
"""


def _secrets(job: dict[str, Any]) -> set[str]:
    text = yaml.safe_dump(job)
    return {word for word in ("CODAT_API_KEY_TEST", "CODAT_API_KEY_PROD") if word in text}


def test_github_prod_runs_only_after_test_with_its_own_key_and_reviewers() -> None:
    jobs: dict[str, Any] = yaml.safe_load(GITHUB.read_text())["jobs"]
    assert list(jobs) == ["test", "plan-prod", "apply-prod"]
    assert jobs["plan-prod"]["needs"] == "test"
    assert set(jobs["apply-prod"]["needs"]) == {"test", "plan-prod"}
    assert jobs["test"]["environment"] == "codat-test"
    assert jobs["apply-prod"]["environment"] == "codat-prod"  # required reviewers
    assert _secrets(jobs["test"]) == {"CODAT_API_KEY_TEST"}
    assert _secrets(jobs["plan-prod"]) == _secrets(jobs["apply-prod"]) == {"CODAT_API_KEY_PROD"}
    shows = [s.get("run", "") for s in jobs["apply-prod"]["steps"]]
    assert any("job test of run $GITHUB_RUN_ID" in run for run in shows)  # what it depends on


def test_gitlab_prod_runs_only_after_test_and_by_hand() -> None:
    doc: dict[str, Any] = yaml.safe_load(GITLAB.read_text())
    assert doc["reconcile-plan-prod"]["needs"] == ["reconcile-promote-test"]
    prod = doc["reconcile-promote-prod"]
    assert set(prod["needs"]) == {"reconcile-promote-test", "reconcile-plan-prod"}
    assert prod["environment"]["name"] == "codat-prod"
    assert [rule["when"] for rule in prod["rules"]] == ["manual"]


def _uids(url: str) -> set[str]:
    with httpx.Client(base_url=url, headers=AUTH_HEADERS) as client:
        body = client.get("/companies", params={"tags": f"reconcile.owner={OWNER}"}).json()
    return {c["tags"]["reconcile.uid"] for c in body["results"]}


@pytest.fixture
def promotion(tmp_path: Path) -> Iterator[tuple[Path, str, str]]:
    """Two served sandboxes standing for the test and production accounts, and a workspace
    whose customers file names them: (workspace, test URL, prod URL)."""
    with (
        serve_sandbox(tmp_path / "test.db", "--account-name", "Acme (test)") as test,
        serve_sandbox(tmp_path / "prod.db", "--account-name", "Acme") as prod,
    ):
        work = tmp_path / "work"
        (work / "customers").mkdir(parents=True)
        (work / "customers" / "customers.yaml").write_text(
            FILE.format(owner=OWNER, test=test, prod=prod)
        )
        yield work, test, prod


@pytest.mark.slow
def test_github_promotion_lines_apply_test_then_prod(
    tmp_path: Path, promotion: tuple[Path, str, str]
) -> None:
    work, test, prod = promotion
    env = {"GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md")}
    steps = github_steps(GITHUB)
    assert [line.split()[1] for _, lines in steps for line in lines] == [
        "plan",
        "apply",
        "plan",
        "apply",
    ]
    run_lines(steps[:1], work, test, env)  # the test job
    assert _uids(test) == {"p-0001", "p-0002"} and _uids(prod) == set()
    run_lines(steps[1:], work, prod, env)  # plan-prod, then apply-prod (its artifact is here)
    assert _uids(prod) == {"p-0001"}


@pytest.mark.slow
def test_gitlab_promotion_lines_apply_test_then_prod(promotion: tuple[Path, str, str]) -> None:
    work, test, prod = promotion
    doc: dict[str, Any] = yaml.safe_load(GITLAB.read_text())
    variables = {k: str(v) for k, v in doc["variables"].items()}
    keys = {  # protected CI/CD variables, each scoped to its environment
        "CODAT_API_KEY_TEST": TEST_API_KEY,
        "CODAT_API_KEY_PROD": TEST_API_KEY,
        "RECONCILE_SIGNING_KEY": TEST_SIGNING_KEY,
    }
    for job in ("reconcile-promote-test", "reconcile-plan-prod", "reconcile-promote-prod"):
        lines = reconcile_lines("\n".join(doc[job]["script"]))
        shell = [line.replace(" | tee ", " > ") for line in lines]
        run_lines([(variables, shell)], work, test, keys)
    assert _uids(test) == {"p-0001", "p-0002"} and _uids(prod) == {"p-0001"}
