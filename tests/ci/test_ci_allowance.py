"""The destroy allowance of the GitHub kit (examples/ci/plan.yml): a label set by a maintainer
other than the author counts only for the current head commit (set after the plan of that head
was shown, by the time the plan comment records, or with that maintainer's approving review of
the head). The github-script steps run under Node against a fake GitHub
(tests/ci/github_script.py); the race of a push just before the label has its control."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.ci.github_script import called, run_script, step_script
from tests.ci.test_ci_kit import GITHUB, MARKER

HEAD, OLD_HEAD = "b" * 40, "a" * 40
SHOWN = "2026-12-01T10:00:00.000Z"  # when the plan comment first showed the plan of HEAD


def _allowance(
    tmp_path: Path,
    action: str,
    labeller: str | None,
    role: str,
    labelled_at: str = "2026-12-01T10:05:00Z",
    shown: tuple[str, str] | None = (HEAD, SHOWN),
    reviews: list[dict[str, Any]] | None = None,
    force_pushed: str | None = None,
) -> dict[str, Any]:
    """One run of the allowance step: `shown` is (head, since) of the bot's plan comment."""
    label = "reconcile-allow-destroy"
    pr = {
        "number": 7,
        "user": {"login": "author"},
        "head": {"sha": HEAD},
        "labels": [{"name": label}] if labeller else [],
    }
    timeline: list[dict[str, Any]] = [
        {
            "event": "labeled",
            "label": {"name": label},
            "actor": {"login": "someone"},
            "created_at": "2026-12-01T09:00:00Z",
        },
        {"event": "committed", "sha": HEAD, "committer": {"date": "2026-12-01T09:59:00Z"}},
        {
            "event": "labeled",
            "label": {"name": label},
            "actor": {"login": labeller},
            "created_at": labelled_at,
        },
    ]
    if force_pushed:
        timeline.append(
            {"event": "head_ref_force_pushed", "commit_id": HEAD, "created_at": force_pushed}
        )
    comments = []
    if shown:
        body = f"{MARKER}\nplan\n<!-- plan-of {shown[0]} since {shown[1]} -->"
        comments.append({"id": 2, "user": {"login": "github-actions[bot]"}, "body": body})
    fixture = {
        "context": {
            "repo": {"owner": "acme", "repo": "customers"},
            "payload": {"action": action, "pull_request": pr},
        },
        "timeline": timeline,
        "comments": comments,
        "reviews": reviews or [],
        "roles": {labeller: role} if labeller else {},
    }
    script = step_script(GITHUB[0], "plan", "Read the allowance label")
    return run_script(tmp_path, script, fixture, {"ALLOW_LABEL": label})


def _allowed(out: dict[str, Any]) -> str:
    assert out["exported"]["ALLOW_DESTROY"] == ("yes" if out["exported"]["ALLOWED_BY"] else "")
    return str(out["exported"]["ALLOWED_BY"])


@pytest.mark.parametrize(
    ("action", "labeller", "role", "allowed"),
    [
        ("labeled", "boss", "maintain", True),
        ("reopened", "root", "admin", True),
        ("labeled", "author", "admin", False),  # the author cannot allow their own destroys
        ("labeled", "dev", "write", False),
        ("labeled", "dev", "triage", False),
        ("opened", None, "none", False),
        ("synchronize", "boss", "maintain", False),  # new commits: allowed again only on sight
    ],
)
def test_only_a_maintainer_other_than_the_author_allows_destroys(
    tmp_path: Path, action: str, labeller: str | None, role: str, allowed: bool
) -> None:
    out = _allowance(tmp_path, action, labeller, role)
    assert out["exported"] == {
        "ALLOW_DESTROY": "yes" if allowed else "",
        "ALLOWED_BY": labeller if allowed else "",
    }
    removed = called(out, "removeLabel")
    assert removed == ([{**removed[0]}] if action == "synchronize" else [])
    if action == "synchronize":
        assert removed[0]["name"] == "reconcile-allow-destroy"


def test_a_label_set_just_after_a_push_does_not_allow_the_new_heads_destroys(
    tmp_path: Path,
) -> None:
    """The race: the author pushes HEAD just before the maintainer, who read the plan of
    OLD_HEAD, sets the label. The `synchronize` run found no label to remove; the `labeled` run
    must not plan HEAD with destroys allowed. The comment still shows OLD_HEAD's plan (the
    `labeled` run cancelled HEAD's), or shows HEAD's only from after the label."""
    still_old = _allowance(tmp_path, "labeled", "boss", "maintain", shown=(OLD_HEAD, SHOWN))
    assert _allowed(still_old) == ""
    (warning,) = [m for call, m in still_old["calls"] if call == "warning"]
    assert f"before the plan of {HEAD} was shown" in warning
    shown_later = _allowance(
        tmp_path, "labeled", "boss", "maintain", labelled_at="2026-12-01T09:59:30Z"
    )
    assert _allowed(shown_later) == ""
    no_comment = _allowance(tmp_path, "labeled", "boss", "maintain", shown=None)
    assert _allowed(no_comment) == ""
    force = _allowance(tmp_path, "labeled", "boss", "maintain", force_pushed="2026-12-01T10:06:00Z")
    assert _allowed(force) == ""
    # The control: the same label set once the plan of HEAD was shown allows destroys.
    assert _allowed(_allowance(tmp_path, "labeled", "boss", "maintain")) == "boss"


def test_an_approving_review_of_the_head_itself_makes_the_label_count(tmp_path: Path) -> None:
    def review(commit: str, user: str = "boss", state: str = "APPROVED") -> dict[str, Any]:
        return {"state": state, "commit_id": commit, "user": {"login": user}}

    early = (OLD_HEAD, SHOWN)  # the label came before the plan of HEAD was shown
    for reviews in ([review(OLD_HEAD)], [review(HEAD, "other")], [review(HEAD, state="COMMENTED")]):
        out = _allowance(tmp_path, "labeled", "boss", "maintain", reviews=reviews, shown=early)
        assert _allowed(out) == "", reviews
    out = _allowance(tmp_path, "labeled", "boss", "maintain", reviews=[review(HEAD)], shown=early)
    assert _allowed(out) == "boss"


def comment_fixture(head: str, comments: list[dict[str, Any]]) -> dict[str, Any]:
    """What the comment step of pull request 7 at `head` sees: its context and comments."""
    return {
        "context": {
            "repo": {"owner": "acme", "repo": "customers"},
            "issue": {"number": 7},
            "runId": 99,
            "serverUrl": "https://github.example",
            "payload": {"pull_request": {"head": {"sha": head}}},
        },
        "comments": comments,
    }


def test_the_plan_comment_edits_only_the_bots_own_comment(tmp_path: Path) -> None:
    (tmp_path / "comment.md").write_text("**Plan: 1 to create.**")
    forged = {"id": 1, "user": {"login": "mallory"}, "body": MARKER + "\nforged"}
    fixture = comment_fixture("h" * 40, [forged])
    script = step_script(GITHUB[0], "plan", "Post or update the pull-request comment")
    env = {"ALLOW_LABEL": "reconcile-allow-destroy", "ALLOWED_BY": ""}
    out = run_script(tmp_path, script, fixture, env)
    (created,) = called(out, "createComment")
    assert created["body"].startswith(MARKER + "\n**Plan: 1 to create.**")
    assert "No destroy allowance" in created["body"]
    # Only the comment it created is then dated (a new head): never mallory's.
    assert [u["comment_id"] for u in called(out, "updateComment")] == [1000]

    fixture["comments"].append(
        {"id": 2, "user": {"login": "github-actions[bot]"}, "body": MARKER + "\nold"}
    )
    out = run_script(tmp_path, script, fixture, {**env, "ALLOWED_BY": "boss"})
    updates = called(out, "updateComment")
    assert [u["comment_id"] for u in updates] == [2, 2] and called(out, "createComment") == []
    assert all("set by maintainer `boss`" in u["body"] for u in updates)


def test_the_plan_comment_keeps_when_the_plan_of_a_head_was_first_shown(tmp_path: Path) -> None:
    """What the allowance reads: a re-run for the same head keeps the time; a new head is
    written "pending" (no label counts), then dated with the time GitHub gave that write."""
    (tmp_path / "comment.md").write_text("**Plan: 1 to create.**")
    old = f"{MARKER}\nold\n<!-- plan-of {HEAD} since {SHOWN} -->"
    ours = {"id": 2, "user": {"login": "github-actions[bot]"}, "body": old}
    fixture = {**comment_fixture(HEAD, [ours]), "now": "2026-12-02T08:00:00Z"}
    script = step_script(GITHUB[0], "plan", "Post or update the pull-request comment")
    env = {"ALLOW_LABEL": "reconcile-allow-destroy", "ALLOWED_BY": ""}
    (same,) = called(run_script(tmp_path, script, fixture, env), "updateComment")
    assert same["body"].endswith(f"<!-- plan-of {HEAD} since {SHOWN} -->")
    fixture["context"]["payload"]["pull_request"]["head"]["sha"] = OLD_HEAD
    pending, dated = called(run_script(tmp_path, script, fixture, env), "updateComment")
    assert pending["body"].endswith(f"<!-- plan-of {OLD_HEAD} since pending -->")
    assert dated["body"].endswith(f"<!-- plan-of {OLD_HEAD} since 2026-12-02T08:00:00Z -->")


def test_a_label_while_the_new_heads_time_is_pending_does_not_count(tmp_path: Path) -> None:
    out = _allowance(tmp_path, "labeled", "boss", "maintain", shown=(HEAD, "pending"))
    assert _allowed(out) == ""
