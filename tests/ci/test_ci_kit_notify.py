"""The kit reaches people: every audit and converge job of examples/ci (GitHub and GitLab) passes
`--notify` with the default branch's notifications file, keeps what it told in a cache only runs
of the default branch can write, and audit and converge share that one state, one run at a time
(tests/ci/ci_notify.py says the rules). Each rule has a control: the YAML mutated here, and the
check catches it. tests/converge/test_ci_converge.py runs the converge lines on the sandbox."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.ci import ci_exposure, ci_notify
from tests.ci.test_ci_kit import CI, EVERY_FILE

NOTIFYING = {"audit.yml", "converge.yml", "audit.gitlab-ci.yml", "converge.gitlab-ci.yml"}


def _problems(text: str) -> list[str]:
    if "jobs" in ci_exposure.load(text):
        return ci_notify.github_notify_problems(text)
    return ci_notify.gitlab_notify_problems(text)


@pytest.mark.parametrize("path", EVERY_FILE, ids=lambda p: p.name)
def test_every_job_that_audits_or_converges_notifies_and_keeps_its_state(path: Path) -> None:
    assert _problems(path.read_text()) == []


def _is_job(value: object) -> bool:
    return isinstance(value, dict) and "script" in value


def test_the_audit_and_converge_jobs_are_the_ones_checked() -> None:
    """The check reads the command lines where they are (a step's run, a job's script)."""
    for name in NOTIFYING:
        doc = ci_exposure.load_file(CI / name)
        jobs = doc["jobs"].values() if "jobs" in doc else [j for j in doc.values() if _is_job(j)]
        scripts = [
            *(str(s.get("run", "")) for job in jobs for s in job.get("steps") or ()),
            *("\n".join(job.get("script") or ()) for job in jobs),
        ]
        lines = [line for script in scripts for line in ci_notify.notifying_lines(script)]
        assert len(lines) == 1 and "--notify" in lines[0], (name, lines)


def _github_state(name: str) -> tuple[set[str], str]:
    doc = ci_exposure.load_file(CI / name)
    steps = [s for job in doc["jobs"].values() for s in job["steps"]]
    prefixes = {
        str(s["with"]["restore-keys"]) for s in steps if "cache/restore@" in s.get("uses", "")
    }
    return prefixes, str(doc["concurrency"]["group"])


def _gitlab_state(name: str) -> tuple[set[str], str]:
    doc = ci_exposure.load_file(CI / name)
    [job] = [j for j in doc.values() if _is_job(j)]
    return {str(job["cache"]["key"])}, str(job["resource_group"])


def test_audit_and_converge_share_one_state_one_run_at_a_time() -> None:
    """Two states would tell each change twice (once per job); two runs at once on one state
    would too. So one cache (GitHub: one restore prefix) and one concurrency group / resource
    group for both, per platform."""
    github = [_github_state(n) for n in ("audit.yml", "converge.yml")]
    gitlab = [_gitlab_state(n) for n in ("audit.gitlab-ci.yml", "converge.gitlab-ci.yml")]
    for first, second in (github, gitlab):
        assert first == second and len(first[0]) == 1
        assert next(iter(first[0])).startswith(ci_notify.STATE_PREFIX)
    # The GitHub group never cancels a run in progress (the state would not be saved).
    for name in ("audit.yml", "converge.yml"):
        assert ci_exposure.load_file(CI / name)["concurrency"]["cancel-in-progress"] is False


def test_the_shared_state_check_catches_a_separate_group(monkeypatch: pytest.MonkeyPatch) -> None:
    """The control: audit.yml in a concurrency group of its own fails the test above."""
    text = (CI / "audit.yml").read_text()
    old = "  group: reconcile-converge-expenses-prod"
    assert old in text
    mutated = ci_exposure.load(text.replace(old, "  group: codat-audit"))
    real = ci_exposure.load_file
    monkeypatch.setattr(
        ci_exposure, "load_file", lambda p: mutated if p.name == "audit.yml" else real(p)
    )
    with pytest.raises(AssertionError):
        test_audit_and_converge_share_one_state_one_run_at_a_time()


CHECKOUT = "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2"
KEY = "reconcile-notify-${{ github.run_id }}-${{ github.run_attempt }}"
PR_CHECKOUT = f"""      - uses: {CHECKOUT}
        with:
          ref: ${{{{ github.event.pull_request.head.sha }}}}
          path: pr
          sparse-checkout: notifications.yaml
          sparse-checkout-cone-mode: false
          persist-credentials: false
"""
SAVE = """      - uses: actions/cache/save@5a3ec84eff668545956fd18022155c47e93e2684 # v4.2.3
        with:
          path: state
          key: reconcile-notify-${{ github.run_id }}
"""
STATE_ARGS = ' --state-dir "$RUNNER_TEMP/reconcile-notify"'
SEALED = "${{ runner.temp }}/reconcile-notify-sealed"
PASSPHRASE = "RECONCILE_STATE_KEY: ${{ secrets.RECONCILE_STATE_KEY }}"


def _step(name: str, title: str) -> str:
    """The text of the step named `title` in the workflow `name` (to cut it out)."""
    text = (CI / name).read_text()
    start = text.index(f"      - name: {title}")
    ends = [text.find(mark, start + 1) for mark in ("\n      - ", "\n\n", "\n      # ")]
    return text[start : min(e for e in ends if e > 0) + 1]


GITLAB_CACHE = "    policy: pull-push\n"

# (file, [(old, new), ...] each replaced everywhere, what the check must say; "": stays clean).
MUTATIONS: list[tuple[str, list[tuple[str, str]], str]] = [
    # Without --notify, nobody is told.
    ("audit.yml", [(' \\\n            --notify "$NOTIFY"', "")], "without --notify"),
    ("converge.yml", [('--notify "$NOTIFY" ', "")], "without --notify"),
    ("converge.gitlab-ci.yml", [(" --notify notifications.yaml", "")], "without --notify"),
    ("audit.gitlab-ci.yml", [(" --notify notifications.yaml", "")], "without --notify"),
    # The notifications file from a pull request (or from whoever starts the run).
    (
        "converge.yml",
        [
            ("NOTIFY: notifications.yaml", "NOTIFY: pr/notifications.yaml"),
            ("      - name: Install reconcile", PR_CHECKOUT + "      - name: Install reconcile"),
        ],
        "from the pull request's checkout",
    ),
    (
        "audit.yml",
        [("  workflow_dispatch: {}\n", "  workflow_dispatch: {}\n  pull_request_target: {}\n")],
        "a pull request can start a run that notifies",
    ),
    ("audit.yml", [("NOTIFY: notifications.yaml", "NOTIFY: ${{ inputs.notify }}")], "expression"),
    ("converge.yml", [("            /notifications.yaml\n", "")], "not in the default branch's"),
    (
        "audit.gitlab-ci.yml",
        [("--notify notifications.yaml", '--notify "$NOTIFY"')],
        "pipeline variable",
    ),
    (
        "converge.gitlab-ci.yml",
        [("  rules:   #", '  rules:\n    - if: $CI_PIPELINE_SOURCE == "merge_request_event"\n  #')],
        "merge request's copy",
    ),
    # A state cache a pull request's run could write.
    (
        "converge.yml",
        [("  workflow_dispatch: {}\n", "  workflow_dispatch: {}\n  workflow_run: {}\n")],
        "a pull request's run can write the notification state",
    ),
    (
        "plan.yml",
        [("      - name: Validate\n", SAVE + "      - name: Validate\n")],
        "a pull request's run can write the notification state",
    ),
    (
        "converge.gitlab-ci.yml",
        [(GITLAB_CACHE, GITLAB_CACHE + "    unprotect: true\n")],
        "unprotected branch's pipeline can write",
    ),
    (
        "audit.gitlab-ci.yml",
        [('$CI_COMMIT_REF_PROTECTED == "true" && $CI_PIPELINE_SOURCE == "web"', "true")],
        "unprotected branch writes the state",
    ),
    # A state a pull request's own workflow could read (it can restore the default branch's
    # caches): kept in the clear, or not sealed, or sealed with no secret.
    ("converge.yml", [(SEALED, "${{ runner.temp }}/reconcile-notify")], "in the clear"),
    ("audit.yml", [(_step("audit.yml", "Seal what"), "")], "is not sealed"),
    ("converge.yml", [(_step("converge.yml", "Open it"), "")], "is not opened"),
    ("audit.yml", [(PASSPHRASE, "RECONCILE_STATE_KEY: constant")], "is not opened"),
    ("converge.yml", [("-pass env:", "-pass pass:x -x ")], "is not sealed"),
    # A state that is not kept, or not restored: every run would tell everything again.
    ("converge.yml", [("          restore-keys: reconcile-notify-\n", "")], "restore-keys"),
    ("audit.yml", [(KEY, "reconcile-notify-state")], "key per run"),
    ("converge.yml", [(STATE_ARGS, ' --state-dir "$RUNNER_TEMP/other"')], "--state-dir"),
    ("audit.yml", [(STATE_ARGS, "")], "--state-dir (.reconcile)"),
    ("converge.yml", [("        if: always()\n", "")], "not saved when the run fails"),
    ("audit.gitlab-ci.yml", [(GITLAB_CACHE, "    policy: pull\n")], "pull-push"),
    ("converge.gitlab-ci.yml", [("      - .reconcile-notify/\n", "      - .x/\n")], "--state-dir"),
    ("converge.gitlab-ci.yml", [("    when: always", "    when: on_success")], "job fails"),
    ("audit.gitlab-ci.yml", [("    key: reconcile-notify\n", "    key: other\n")], "no cache"),
    # Harmless: the file elsewhere in the default branch's checkout, named the same in both.
    (
        "audit.yml",
        [
            ("NOTIFY: notifications.yaml", "NOTIFY: deploy/notifications.yaml"),
            ("            /notifications.yaml\n", "            /deploy/notifications.yaml\n"),
        ],
        "",
    ),
]


@pytest.mark.parametrize(
    ("name", "changes", "says"), MUTATIONS, ids=[f"{m[0]}-{i}" for i, m in enumerate(MUTATIONS)]
)
def test_the_notify_rules_catch_each_mutation(
    name: str, changes: list[tuple[str, str]], says: str
) -> None:
    """The controls. A mutation whose `says` is empty must keep the file clean; every other one
    must be reported, for the reason given."""
    text = (CI / name).read_text()
    for old, new in changes:
        assert old in text, old
        text = text.replace(old, new)
    found = _problems(text)
    if not says:
        assert found == [], found
        return
    assert any(says in problem for problem in found), found


def test_the_guide_says_what_the_kit_does() -> None:
    """docs/gitops.md, "Reaching people": the secrets the jobs pass, the cache keys and paths,
    the seal's passphrase and the cold start are the kit's own."""
    guide = (CI.parents[1] / "docs" / "gitops.md").read_text()
    section = guide.split("## Reaching people", 1)[1].split("\n## ", 1)[0]
    for name in ("audit.yml", "converge.yml"):
        doc = ci_exposure.load_file(CI / name)
        steps = [s for job in doc["jobs"].values() for s in job["steps"]]
        [notifying] = [s for s in steps if ci_notify.notifying_lines(str(s.get("run", "")))]
        for secret in set(notifying["env"]) - {"CODAT_API_KEY"}:
            assert f"`{secret}`" in section, secret
        [restore] = [s for s in steps if "cache/restore@" in s.get("uses", "")]
        assert f"`{restore['with']['restore-keys']}`" in section
        assert "RECONCILE_STATE_KEY" in str(steps) and "`RECONCILE_STATE_KEY`" in section
    for name in ("audit.gitlab-ci.yml", "converge.gitlab-ci.yml"):
        [job] = [j for j in ci_exposure.load_file(CI / name).values() if _is_job(j)]
        assert f"key `{job['cache']['key']}`" in section
        assert all(f"`{path}`" in section for path in job["cache"]["paths"])
    assert "### A cold start" in section and "no way to avoid this burst" in section
