"""Run a workflow's `actions/github-script` step under Node, against a fake GitHub that answers
from a fixture and records every call, so the kit's decisions (which plan run apply trusts,
who may allow destroys, which comment is edited) are tested as the code the runner executes."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

HARNESS = r"""
const fs = require('fs');
const fixture = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const script = fs.readFileSync(process.argv[3], 'utf8');
const calls = [], outputs = {}, exported = {};
let failed = null;
const summary = { addHeading() { return summary; }, addRaw() { return summary; },
                  write() { return Promise.resolve(); } };
const core = {
  setOutput: (k, v) => { outputs[k] = v; }, setFailed: m => { failed = m; },
  info() {}, notice: m => calls.push(['notice', m]), warning: m => calls.push(['warning', m]),
  exportVariable: (k, v) => { exported[k] = v; }, summary,
};
const answer = (name, params) => {
  calls.push([name, params]);
  switch (name) {
    case 'listWorkflowRuns':
      return (fixture.runs || []).filter(r => (!params.event || r.event === params.event)
        && (!params.status || r.conclusion === params.status));
    case 'listWorkflowRunArtifacts':
      return { artifacts: ((fixture.artifacts || {})[String(params.run_id)] || [])
        .filter(a => !params.name || a.name === params.name) };
    case 'listPullRequestsAssociatedWithCommit': return fixture.prs || [];
    case 'listEvents': return fixture.events || [];
    case 'listEventsForTimeline': return fixture.timeline || [];
    case 'listReviews': return fixture.reviews || [];
    case 'listComments': return fixture.comments || [];
    case 'createComment': case 'updateComment':
      return { id: params.comment_id || 1000, updated_at: fixture.now || '2026-12-01T10:00:00Z' };
    case 'getCollaboratorPermissionLevel':
      return { role_name: (fixture.roles || {})[params.username] || 'read' };
    default: return {};
  }
};
const api = new Proxy({}, { get: (_, group) => new Proxy({}, {
  get: (_, name) => async params => ({ data: answer(name, params) }) }) });
const github = { rest: api, paginate: async (fn, params) => (await fn(params)).data };
const AsyncFunction = Object.getPrototypeOf(async function () {}).constructor;
new AsyncFunction('github', 'context', 'core', 'require', 'process', script)(
  github, fixture.context, core, require, process,
).then(() => console.log(JSON.stringify({ outputs, exported, failed, calls })),
       e => { console.log(JSON.stringify({ error: String(e && e.stack || e) })); });
"""


def node() -> str:
    found = shutil.which("node")
    if found is None:
        pytest.skip("node is not installed: the github-script steps cannot be run")
    return found


def step_script(workflow: Path, job: str, name: str) -> str:
    doc = yaml.safe_load(workflow.read_text())
    for step in doc["jobs"][job]["steps"]:
        if step.get("name") == name:
            script: str = step["with"]["script"]
            return script
    raise AssertionError(f"no step {name!r} in {workflow.name}:{job}")


def run_script(
    tmp_path: Path, script: str, fixture: dict[str, Any], env: dict[str, str]
) -> dict[str, Any]:
    """{outputs, exported, failed, calls} of one run of `script` against `fixture`."""
    (tmp_path / "harness.js").write_text(HARNESS)
    (tmp_path / "fixture.json").write_text(json.dumps(fixture))
    (tmp_path / "script.js").write_text(script)
    result = subprocess.run(
        [node(), "harness.js", "fixture.json", "script.js"],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    out: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    assert "error" not in out, out.get("error")
    return out


def called(out: dict[str, Any], name: str) -> list[dict[str, Any]]:
    return [params for call, params in out["calls"] if call == name]
