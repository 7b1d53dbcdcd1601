"""Every job of every file in examples/ci that can see a secret: the default branch only (or,
by design, plan.yml's pull_request_target), a protected environment (with required reviewers
documented where it applies), actions pinned by SHA, reconcile pinned by version and hash,
no kept checkout credentials, and (GitLab) no CODAT_BASE_URL a pipeline variable can override.
Each rule has a control: the YAML mutated in the test, and the check catches it. zizmor audits
the GitHub kit offline."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.ci import ci_exposure
from tests.ci.test_ci_kit import CI, EVERY_FILE

GITHUB_FILES = [p for p in EVERY_FILE if "jobs" in ci_exposure.load(p.read_text())]
GITLAB_FILES = [p for p in EVERY_FILE if p not in GITHUB_FILES]


def _problems(text: str) -> list[str]:
    if "jobs" in ci_exposure.load(text):
        return ci_exposure.github_key_problems(text)
    return ci_exposure.gitlab_key_problems(text)


def test_every_file_of_the_kit_has_key_holding_jobs_checked() -> None:
    names = {p.name for p in EVERY_FILE}
    assert {"plan.yml", "apply.yml", "audit.yml", "converge.yml", "promote.yml"} <= names
    assert {".gitlab-ci.yml", "audit.gitlab-ci.yml", "converge.gitlab-ci.yml"} <= names
    for path in GITHUB_FILES:
        assert ci_exposure.github_key_jobs(ci_exposure.load(path.read_text())), path.name
    for path in GITLAB_FILES:
        assert ci_exposure.gitlab_key_jobs(ci_exposure.load(path.read_text())), path.name


@pytest.mark.parametrize("path", EVERY_FILE, ids=lambda p: p.name)
def test_every_key_holding_job_keeps_the_rules(path: Path) -> None:
    assert _problems(path.read_text()) == []


CHECKOUT_SHA = "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2"
GITLAB_RULE = '$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH && $CI_COMMIT_REF_PROTECTED == "true" && '
FIXED = 'export CODAT_BASE_URL="https://api.codat.io"'
HASHED = "--require-hashes -r reconcile-requirements.txt"

# (file, old, new, what the check must say): one mutation per rule, per platform.
MUTATIONS = [
    (
        "converge.gitlab-ci.yml",
        '$CI_PIPELINE_SOURCE == "web"',
        '$CI_PIPELINE_SOURCE == "web" || $CI_PIPELINE_SOURCE == "web"',
        "other branches",
    ),
    (
        "promote.yml",
        "RECONCILE_SIGNING_KEY, required reviewers\n",
        "RECONCILE_SIGNING_KEY\n",
        "codat-test is not documented with required reviewers",
    ),
    (
        "promote.gitlab-ci.yml",
        "codat-test   required approvals",
        "codat-test   no approvals",
        "codat-test is not documented with required approvals",
    ),
    ("audit.yml", CHECKOUT_SHA, "actions/checkout@v4", "not pinned by full commit SHA"),
    ("converge.yml", CHECKOUT_SHA, CHECKOUT_SHA.split(" #")[0], "its version in a comment"),
    ("apply.yml", "persist-credentials: false", "persist-credentials: true", "credentials"),
    ("promote.yml", "          persist-credentials: false\n", "", "credentials"),
    ("audit.yml", "    environment: codat-audit", "    # environment", "no environment"),
    ("apply.yml", "    environment: codat-production", "    # no", "no environment"),
    ("apply.yml", "branches: [main]", "branches: [main, release]", "not only the default"),
    ("promote.yml", "branches: [main]", "branches: ['**']", "not only the default"),
    ("converge.yml", "github.event_name == 'schedule' || ", "", ""),  # still default-only
    (
        "converge.yml",
        "    if: github.event_name",
        "    if: true || github.event_name",
        "dispatch on any branch",
    ),
    (
        "audit.yml",
        "  workflow_dispatch: {}\n",
        "  workflow_dispatch: {}\n  pull_request: {}\n",
        "runs on pull_request",
    ),
    (
        "audit.yml",
        '--require-hashes -r "$REQUIREMENTS"',
        '"codat-reconcile==0.1.0"',
        "without pinned hashes",
    ),
    ("plan.yml", '--require-hashes -r "$REQUIREMENTS"', "codat-reconcile", "without pinned"),
    (
        "apply.yml",
        "Environments): required reviewers",
        "Environments): no reviewers",
        "not documented with required reviewers",
    ),
    ("plan.yml", 'reconcile validate "$CUSTOMERS"', "make -C pr", "pull request's code"),
    (
        ".gitlab-ci.yml",
        "  environment:\n    name: codat-production        # protected, with required approvals\n",
        "",
        "no protected environment",
    ),
    (
        "audit.gitlab-ci.yml",
        GITLAB_RULE + '$CI_PIPELINE_SOURCE == "web"',
        '$CI_PIPELINE_SOURCE == "web"',
        "other branches",
    ),
    (
        "converge.gitlab-ci.yml",
        GITLAB_RULE + '$CI_PIPELINE_SOURCE == "schedule"',
        '$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH && $CI_PIPELINE_SOURCE == "schedule"',
        "other branches",
    ),
    (
        "promote.gitlab-ci.yml",
        '&& $CI_COMMIT_REF_PROTECTED == "true"\n      changes',
        "\n      changes",
        "other branches",
    ),
    ("converge.gitlab-ci.yml", f"    - {FIXED}", "    - true", "not fixed in the script"),
    (
        "audit.gitlab-ci.yml",
        "  variables:\n",
        "  variables:\n    CODAT_BASE_URL: https://x\n",
        "`variables:`",
    ),
    (
        ".gitlab-ci.yml",
        "variables:\n",
        "variables:\n  CODAT_BASE_URL: https://api.codat.io\n",
        "`variables:`",
    ),
    (
        "promote.gitlab-ci.yml",
        HASHED,
        '"codat-reconcile==${RECONCILE_VERSION}"',
        "by version and hash",
    ),
    ("converge.gitlab-ci.yml", HASHED, "--require-hashes -r $REQUIREMENTS", "fixed file"),
]


@pytest.mark.parametrize(
    ("name", "old", "new", "says"), MUTATIONS, ids=[f"{m[0]}-{i}" for i, m in enumerate(MUTATIONS)]
)
def test_the_rules_catch_each_mutation(name: str, old: str, new: str, says: str) -> None:
    """The controls. A mutation whose `says` is empty must keep the file clean (the check does
    not fire on a harmless change); every other one must be reported, for the reason given."""
    text = (CI / name).read_text()
    assert old in text, old
    found = _problems(text.replace(old, new, 1))
    if not says:
        assert found == [], found
        return
    assert any(says in problem for problem in found), found


def test_a_dispatch_from_any_branch_is_caught() -> None:
    text = (CI / "converge.yml").read_text()
    cut = re.sub(r"    if: github\.event_name.*\n", "", text)
    assert cut != text
    assert any("dispatch on any branch" in f for f in _problems(cut))


# ---------------------------------------------------------------------- zizmor


def test_zizmor_s_one_suppression_says_why() -> None:
    """zizmor itself runs as a step of .ci/run (a linter, not a test); what it may skip is
    said in the workflow file, with the reason."""
    plan = (CI / "plan.yml").read_text()
    (ignored,) = re.findall(r"# zizmor: ignore\[([\w-]+)\] (.+)", plan)
    assert ignored[0] == "dangerous-triggers" and "docs/gitops.md" in ignored[1]
    for path in GITHUB_FILES:
        if path.name != "plan.yml":
            assert "zizmor: ignore" not in path.read_text(), path
    assert "zizmor --offline" in (CI.parents[1] / ".ci" / "run").read_text()
