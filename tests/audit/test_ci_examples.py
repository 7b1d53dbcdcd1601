"""The nightly audit examples in examples/ci: their shape, actionlint (with shellcheck when it is
installed) and the vendored GitHub workflow / GitLab CI schemas (check-jsonschema, offline)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

CI = Path(__file__).resolve().parents[2] / "examples" / "ci"
GITHUB = CI / "audit.yml"
GITLAB = CI / "audit.gitlab-ci.yml"


def load(path: Path) -> dict[Any, Any]:
    doc = yaml.safe_load(path.read_text())
    assert isinstance(doc, dict)
    return doc


def test_github_workflow_runs_nightly_and_keeps_one_issue() -> None:
    doc = load(GITHUB)
    triggers = doc.get("on", doc.get(True))  # YAML 1.1 reads a bare `on` as true
    assert triggers["schedule"][0]["cron"] and "workflow_dispatch" in triggers
    assert doc["permissions"] == {"contents": "read", "issues": "write"}
    steps = doc["jobs"]["audit"]["steps"]
    audit = next(s for s in steps if s.get("id") == "audit")
    assert "--format markdown --json-out audit.json" in audit["run"]
    assert "secrets.CODAT_API_KEY" in audit["env"]["CODAT_API_KEY"]
    upload = next(s for s in steps if str(s.get("uses", "")).startswith("actions/upload-artifact"))
    assert upload["if"] == "always()" and upload["with"]["path"] == "audit.json"
    update = next(s for s in steps if s.get("if") == "steps.audit.outputs.exit-code == '2'")
    assert "gh issue edit" in update["run"] and "gh issue create" in update["run"]
    close = next(s for s in steps if s.get("if") == "steps.audit.outputs.exit-code == '0'")
    assert "gh issue close" in close["run"]


def test_gitlab_job_is_scheduled_and_keeps_one_issue() -> None:
    job = load(GITLAB)["codat-audit"]
    assert {"if": '$CI_PIPELINE_SOURCE == "schedule"'} in job["rules"]
    script = "\n".join(job["script"])
    assert "--format markdown --json-out audit.json" in script
    assert "state_event=close" in script and "-X POST" in script and "-X PUT" in script
    assert "audit.json" in job["artifacts"]["paths"] and job["artifacts"]["when"] == "always"


def tool(name: str) -> str:
    """A console script of the test extras, from this interpreter's environment first."""
    here = Path(sys.executable).parent / name
    found = str(here) if here.exists() else shutil.which(name)
    assert found, f"{name} is not installed: pip install -e '.[test]'"
    return found


def test_actionlint() -> None:
    result = subprocess.run(
        [tool("actionlint"), "-no-color", str(GITHUB)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("path", "schema"),
    [(GITHUB, "vendor.github-workflows"), (GITLAB, "vendor.gitlab-ci")],
)
def test_check_jsonschema(path: Path, schema: str) -> None:
    result = subprocess.run(
        [tool("check-jsonschema"), "--builtin-schema", schema, str(path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
