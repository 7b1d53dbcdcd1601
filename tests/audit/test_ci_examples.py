"""The nightly audit examples in examples/ci: their shape and what their steps do (.ci/run lints
them: actionlint, and the GitHub workflow / GitLab CI schemas through check-jsonschema)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.ci.ci_exposure import KIT, load_file

GITHUB = KIT / "audit.yml"
GITLAB = KIT / "audit.gitlab-ci.yml"


def test_github_workflow_runs_nightly_and_keeps_one_issue() -> None:
    doc = load_file(GITHUB)
    triggers = doc.get("on", doc.get(True))  # YAML 1.1 reads a bare `on` as true
    assert triggers["schedule"][0]["cron"] and "workflow_dispatch" in triggers
    assert doc["permissions"] == {}  # nothing by default: the job asks for what it uses
    job = doc["jobs"]["audit"]
    assert job["permissions"] == {"contents": "read", "issues": "write", "actions": "read"}
    steps = doc["jobs"]["audit"]["steps"]
    audit = next(s for s in steps if s.get("id") == "audit")
    assert "--format markdown --json-out audit.json" in audit["run"]
    assert "--since previous/audit.json" in audit["run"] and "--link-urls" not in audit["run"]
    fetch = next(s for s in steps if "gh run download" in s.get("run", ""))
    assert steps.index(fetch) < steps.index(audit)
    assert "secrets.CODAT_API_KEY" in audit["env"]["CODAT_API_KEY"]
    upload = next(s for s in steps if str(s.get("uses", "")).startswith("actions/upload-artifact"))
    assert upload["if"] == "always()" and upload["with"]["path"] == "audit.json"
    update = next(s for s in steps if s.get("if") == "steps.audit.outputs.exit-code == '2'")
    assert "gh issue edit" in update["run"] and "gh issue create" in update["run"]
    # Only something new notifies: a comment, posted when the report's `new` is not 0.
    assert "gh issue comment" in update["run"] and ".new" in update["run"]
    assert 'if [ "$new" != "0" ]' in update["run"]
    close = next(s for s in steps if s.get("if") == "steps.audit.outputs.exit-code == '0'")
    assert "gh issue close" in close["run"]


def test_gitlab_job_is_scheduled_and_keeps_one_issue() -> None:
    job = load_file(GITLAB)["codat-audit"]
    default_branch = '$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH && $CI_COMMIT_REF_PROTECTED == "true"'
    assert all(rule["if"].startswith(default_branch) for rule in job["rules"])
    assert any(rule["if"].endswith('$CI_PIPELINE_SOURCE == "schedule"') for rule in job["rules"])
    script = "\n".join(job["script"])
    assert "--format markdown --json-out audit.json" in script
    assert "--since previous.json" in script and "/notes" in script
    assert 'if [ "$new" != "0" ]' in script
    assert "state_event=close" in script and "-X POST" in script and "-X PUT" in script
    assert "audit.json" in job["artifacts"]["paths"] and job["artifacts"]["when"] == "always"


def _issue_step(tmp_path: Path, new: object, open_issue: str) -> list[str]:
    """Run the workflow's issue step with a recording `gh` on PATH; returns gh's calls."""
    doc = load_file(GITHUB)
    steps = doc["jobs"]["audit"]["steps"]
    update = next(s for s in steps if s.get("if") == "steps.audit.outputs.exit-code == '2'")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "gh"
    fake.write_text(
        "#!/bin/sh\n"
        'echo "$*" >> "$GH_CALLS"\n'
        'if [ "$1 $2" = "issue list" ]; then printf "%s" "$OPEN_ISSUE"; fi\n'
    )
    fake.chmod(0o755)
    (tmp_path / "audit.md").write_text("report\n")
    (tmp_path / "audit.json").write_text(json.dumps({"kind": "audit", "new": new}))
    calls = tmp_path / "calls.txt"
    env = {
        **os.environ,
        **{k: str(v) for k, v in doc["env"].items()},
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "GH_CALLS": str(calls),
        "OPEN_ISSUE": open_issue,
        "RUN_URL": "https://example.invalid/run/1",
    }
    subprocess.run(
        ["bash", "-e", "-c", update["run"]], cwd=tmp_path, env=env, check=True, timeout=60
    )
    return calls.read_text().splitlines()


@pytest.mark.skipif(shutil.which("jq") is None, reason="the workflow's runner has jq")
@pytest.mark.parametrize(
    ("new", "open_issue", "comment", "create"),
    [(0, "7", False, False), (2, "7", True, False), (None, "7", True, False), (3, "", False, True)],
)
def test_only_something_new_notifies(
    tmp_path: Path, new: object, open_issue: str, comment: bool, create: bool
) -> None:
    calls = _issue_step(tmp_path, new, open_issue)
    assert any(c.startswith("issue comment 7") for c in calls) is comment
    assert any(c.startswith("issue create") for c in calls) is create
    assert any(c.startswith("issue edit 7") for c in calls) is (not create)
