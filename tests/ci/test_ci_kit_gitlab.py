"""The Python blocks of the GitLab kit (examples/ci/.gitlab-ci.yml), run as the jobs run them
against a fake GitLab on loopback: the note job edits only its own user's notes, the plan job
plans only a merge request of this project, and apply takes only the reviewed plan of the
merged merge request, saying what to do when it expired."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.ci.gitlab_fake import FakeGitLab, python_blocks, run_block, serve

GITLAB = Path(__file__).resolve().parents[2] / "examples" / "ci" / ".gitlab-ci.yml"
MARKER = "<!-- codat-reconcile plan -->"
HEAD, MERGE = "h" * 40, "m" * 40
NOTES = "/projects/5/merge_requests/7/notes"


def _mr(**changes: Any) -> dict[str, Any]:
    mr = {
        "iid": 7,
        "state": "opened",
        "target_branch": "main",
        "project_id": 5,
        "source_project_id": 5,
        "sha": HEAD,
        "merge_commit_sha": None,
        "squash_commit_sha": None,
    }
    return {**mr, **changes}


def test_the_plan_job_plans_only_a_merge_request_of_this_project(tmp_path: Path) -> None:
    check = python_blocks(GITLAB, "reconcile-plan")[0]
    env = {"RECONCILE_MR_IID": "7"}
    with serve(FakeGitLab({"GET /projects/5/merge_requests/7": _mr()})) as fake:
        result = run_block(check, fake, tmp_path, env)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "reviewed-mr.txt").read_text() == f"7 {HEAD}\n"
    for bad in (_mr(source_project_id=6), _mr(target_branch="release"), _mr(state="closed")):
        (tmp_path / "reviewed-mr.txt").unlink(missing_ok=True)
        with serve(FakeGitLab({"GET /projects/5/merge_requests/7": bad})) as fake:
            result = run_block(check, fake, tmp_path, env)
        assert result.returncode == 1 and "is not a merge request of this project" in result.stderr
        assert not (tmp_path / "reviewed-mr.txt").exists()


def _post_note(tmp_path: Path, notes: list[dict[str, Any]]) -> FakeGitLab:
    (tmp_path / "plan.md").write_text("**Plan: 1 to create.**")
    (tmp_path / "reviewed-mr.txt").write_text(f"7 {HEAD}\n")
    note = python_blocks(GITLAB, "reconcile-plan")[1]
    routes = {"GET /user": {"id": 42}, f"GET {NOTES}?per_page=100&sort=asc&page=1": notes}
    env = {"RECONCILE_MR_IID": "7", "CI_JOB_URL": "https://gitlab.example/jobs/1"}
    with serve(FakeGitLab(routes)) as fake:
        result = run_block(note, fake, tmp_path, env)
    assert result.returncode == 0, result.stderr
    return fake


def test_the_note_job_edits_only_notes_its_own_user_wrote(tmp_path: Path) -> None:
    forged = {"id": 1, "author": {"id": 9}, "body": MARKER + "\nforged"}
    fake = _post_note(tmp_path, [forged])
    writes = [(m, p, b) for m, p, b in fake.requests if m != "GET"]
    assert [(m, p) for m, p, _ in writes] == [("POST", NOTES)]
    assert writes[0][2]["body"].startswith(MARKER + "\n**Plan: 1 to create.**")
    assert f"Plan of {HEAD}" in writes[0][2]["body"]

    ours = {"id": 2, "author": {"id": 42}, "body": MARKER + "\nold"}
    fake = _post_note(tmp_path, [forged, ours])
    assert [(m, p) for m, p, _ in fake.requests if m != "GET"] == [("PUT", f"{NOTES}/2")]


def _apply(
    tmp_path: Path, jobs: list[dict[str, Any]], artifacts: dict[str, bytes]
) -> tuple[int, str]:
    routes: dict[str, Any] = {
        f"GET /projects/5/repository/commits/{MERGE}/merge_requests": [
            _mr(state="merged", merge_commit_sha=MERGE)
        ],
        "GET /projects/5/jobs?scope[]=success&per_page=100": jobs,
        "GET /projects/5/pipelines/100": {"source": "web", "ref": "main"},
        "GET /projects/5/pipelines/101": {"source": "merge_request_event", "ref": "main"},
        **{f"GET /projects/5/jobs/{k}": v for k, v in artifacts.items()},
    }
    find = python_blocks(GITLAB, "reconcile-apply")[0]
    env = {"CI_COMMIT_SHA": MERGE, "REVIEWED_PLAN": "reviewed-plan/plan.json"}
    with serve(FakeGitLab(routes)) as fake:
        result = run_block(find, fake, tmp_path, env)
    return result.returncode, result.stdout + result.stderr


def _job(job_id: int, pipeline: int = 100, ref: str = "main") -> dict[str, Any]:
    return {
        "id": job_id,
        "name": "reconcile-plan",
        "ref": ref,
        "pipeline": {"id": pipeline},
        "web_url": f"https://gitlab.example/jobs/{job_id}",
    }


PLAN = json.dumps({"format_version": "1"}).encode()


def test_apply_takes_only_the_merged_merge_requests_reviewed_plan(tmp_path: Path) -> None:
    jobs = [
        _job(14),  # another merge request's plan
        _job(13, pipeline=101),  # made in a merge-request pipeline: the MR's own code
        _job(12, ref="feature"),
        _job(11),
    ]
    artifacts = {
        "14/artifacts/reviewed-mr.txt": f"8 {HEAD}\n".encode(),
        "13/artifacts/reviewed-mr.txt": f"7 {HEAD}\n".encode(),
        "13/artifacts/plan.json": b"forged",
        "12/artifacts/reviewed-mr.txt": f"7 {HEAD}\n".encode(),
        "12/artifacts/plan.json": b"forged",
        "11/artifacts/reviewed-mr.txt": f"7 {HEAD}\n".encode(),
        "11/artifacts/plan.json": PLAN,
    }
    code, output = _apply(tmp_path, jobs, artifacts)
    assert code == 0, output
    assert "applying the plan of job https://gitlab.example/jobs/11" in output
    assert (tmp_path / "reviewed-plan" / "plan.json").read_bytes() == PLAN

    del artifacts["11/artifacts/reviewed-mr.txt"]
    (tmp_path / "reviewed-plan" / "plan.json").unlink()
    code, output = _apply(tmp_path, jobs, artifacts)
    assert code == 1 and f"no successful plan of !7 at {HEAD} that has not expired" in output
    assert "Next: run a pipeline on main with RECONCILE_MR_IID=7" in output
    assert not (tmp_path / "reviewed-plan" / "plan.json").exists()


def test_an_expired_plan_ends_the_gitlab_apply_with_the_next_step(tmp_path: Path) -> None:
    code, output = _apply(tmp_path, [_job(11)], {})  # GitLab expires a job's artifacts at once
    assert code == 1 and "that has not expired (plans are kept 7 days)" in output
    assert "Next: run a pipeline on main with RECONCILE_MR_IID=7" in output
    artifacts = {"11/artifacts/reviewed-mr.txt": f"7 {HEAD}\n".encode()}  # plan.json gone
    code, output = _apply(tmp_path, [_job(11)], artifacts)
    assert (
        code == 1
        and "the plan reviewed on !7 (job https://gitlab.example/jobs/11) expired" in output
    )
    assert "Next: run a pipeline on main with RECONCILE_MR_IID=7" in output
