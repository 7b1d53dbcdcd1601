"""Do the kit's audit and converge jobs reach people, from trusted settings, remembering what
they told? Read from the workflow files themselves (GitHub Actions and GitLab CI), for
tests/ci/test_ci_kit_notify.py (docs/gitops.md, "Reaching people").

Every job that runs `reconcile audit` or `reconcile converge`:

- passes `--notify FILE`, FILE being the deployment's notifications file from the default
  branch's own checkout: not a pull request's checkout, not a workflow started by a pull
  request, not an expression (GitHub: an input or event field), not a variable (GitLab: a
  pipeline variable overrides `variables:`), and checked out at all (a sparse checkout lists it);
- keeps its `--state-dir` between runs in a cache. GitHub: a restore and a save of one
  directory, with a key per run (`github.run_id`) and a `restore-keys` prefix of it (the newest
  state comes back), saved even when the run failed; sealed, because a pull request's own
  workflow can restore the default branch's caches and the state names customers and the
  companies awaiting authorization: the cache holds the state only as `openssl enc` made it
  (a passphrase from a secret), opened after the restore and sealed (`always()`) before the
  save, never the --state-dir itself. GitLab: a cache of that directory with `policy:
  pull-push` and `when: always`, never `unprotect: true` (protected branches' caches are their
  own);
- and a pull request's run can never write that cache: the workflow starts only on a schedule, a
  dispatch or a push (a run of the default branch: `pull_request_target` and `workflow_run` run
  in the default branch's cache scope, so a workflow they start must touch no notification
  cache either); GitLab, only protected default-branch pipelines run the job.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from tests.ci.ci_exposure import GITLAB_DEFAULT_ONLY, PR_REFS, events, load, runs_merge_request_code

# `reconcile audit|converge` where a command starts (not inside an echo or a description).
NOTIFYING = re.compile(r"(?:^|[;&|]|\$\()\s*(?:\w+=\S*\s+)*reconcile\s+(?:audit|converge)\b")
# The events whose runs are the default branch's own (what may write the notification state).
TRUSTED_EVENTS = frozenset({"schedule", "workflow_dispatch", "push"})
STATE_PREFIX = "reconcile-notify"
_RUNNER_TEMP = re.compile(r"\$\{\{\s*runner\.temp\s*\}\}")


def option(line: str, name: str) -> str | None:
    """The value given to `name` in a shell command line (None: not given)."""
    try:
        words = shlex.split(line, comments=True)
    except ValueError:
        words = line.split()
    for i, word in enumerate(words):
        if word == name and i + 1 < len(words):
            return words[i + 1]
        if word.startswith(f"{name}="):
            return word.split("=", 1)[1]
    return None


def _expand(value: str, env: Mapping[str, str]) -> str:
    value = re.sub(r"\$\{?RUNNER_TEMP\}?", "${{ runner.temp }}", value)
    for _ in range(3):
        value = re.sub(r"\$\{?([A-Za-z_]\w*)\}?", lambda m: env.get(m.group(1), m.group(0)), value)
    return _RUNNER_TEMP.sub("${{ runner.temp }}", value).rstrip("/")


def notifying_lines(script: str) -> list[str]:
    joined = script.replace("\\\n", " ")
    return [line.strip() for line in joined.splitlines() if NOTIFYING.search(line)]


# ---------------------------------------------------------------------- GitHub


def github_notify_problems(text: str) -> list[str]:
    """`job: rule` for each rule a notifying job (or a cache) of this workflow breaks."""
    doc = load(text)
    on = events(doc)
    untrusted = sorted(on - TRUSTED_EVENTS)
    workflow_env = {k: str(v) for k, v in (doc.get("env") or {}).items()}
    found: list[str] = []
    for name, job in (doc.get("jobs") or {}).items():
        steps = job.get("steps") or ()
        caches = [s for s in steps if str(s.get("uses", "")).startswith("actions/cache")]
        ours = [s for s in caches if STATE_PREFIX in yaml.safe_dump(s.get("with") or {})]
        if ours and untrusted:
            found.append(
                f"{name}: a pull request's run can write the notification state "
                f"(the workflow starts on {', '.join(untrusted)})"
            )
        job_env = {**workflow_env, **{k: str(v) for k, v in (job.get("env") or {}).items()}}
        for here, step in enumerate(steps):
            env = {**job_env, **{k: str(v) for k, v in (step.get("env") or {}).items()}}
            for line in notifying_lines(str(step.get("run", ""))):
                problems = _github_line(line, _Step(env, list(steps), here, ours), untrusted)
                found += [f"{name}: {p}" for p in problems]
    return found


@dataclass(frozen=True)
class _Step:
    """Where a notifying line runs: its environment, its job's steps, its own index among them
    and the job's notification-state caches."""

    env: Mapping[str, str]
    steps: list[Mapping[str, Any]]
    here: int
    caches: list[Mapping[str, Any]]


def _github_line(line: str, at: _Step, untrusted: list[str]) -> list[str]:
    notify = option(line, "--notify")
    if notify is None:
        return [f"audits or converges without --notify (nobody is told): {line}"]
    problems: list[str] = []
    path = _expand(notify, at.env)
    if "${{" in path:
        problems.append(f"its notifications file is named by an expression: {path}")
    if untrusted:
        problems.append(
            "a pull request can start a run that notifies, with its own notifications file or "
            f"its own changes to tell (the workflow starts on {', '.join(untrusted)})"
        )
    for step in at.steps:
        options = step.get("with") or {}
        if not str(step.get("uses", "")).startswith("actions/checkout@"):
            continue
        where = str(options.get("path", "")).strip("./")
        if PR_REFS.search(yaml.safe_dump(dict(options))):
            if not where or path.strip("./").startswith(f"{where}/"):
                problems.append("its notifications file comes from the pull request's checkout")
        elif not where and options.get("sparse-checkout"):
            listed = {p.strip().strip("/") for p in str(options["sparse-checkout"]).splitlines()}
            if path.strip("./") not in listed:
                problems.append(f"{path} is not in the default branch's (sparse) checkout")
    state = _expand(option(line, "--state-dir") or ".reconcile", at.env)
    return problems + _github_cache(state, at)


def _github_cache(state: str, at: _Step) -> list[str]:
    env, steps, here, caches = at.env, at.steps, at.here, at.caches
    problems: list[str] = []
    restores = [s for s in caches if "cache/restore@" in str(s.get("uses"))]
    saves = [s for s in caches if "cache/save@" in str(s.get("uses"))]
    if not restores or not saves:
        return ["its notification state is not restored and saved by actions/cache"]
    kept = {_expand(str((s.get("with") or {}).get("path", "")), env) for s in [*restores, *saves]}
    if len(kept) != 1:
        problems.append(f"the restore and the save keep different paths: {sorted(kept)}")
    sealed = kept.pop()
    if sealed == state or state.startswith(f"{sealed}/"):
        problems.append(
            f"the cache holds the --state-dir ({state}) in the clear: a pull request's own "
            "workflow can restore the default branch's caches"
        )
    for step in [*restores, *saves]:
        if "github.run_id" not in str((step.get("with") or {}).get("key", "")):
            problems.append("the state cache has no key per run (github.run_id): one save only")
    for step in restores:
        options = step.get("with") or {}
        prefix = str(options.get("restore-keys", "")).strip()
        if not prefix or "${{" in prefix or not str(options.get("key")).startswith(prefix):
            problems.append("no restore-keys prefix of the key: the newest state is not restored")
    for step in saves:
        if "always()" not in str(step.get("if", "")):
            problems.append("the state is not saved when the run fails: it would tell again")
    index = {id(s): i for i, s in enumerate(steps)}
    first = min(index[id(s)] for s in restores)
    last = max(index[id(s)] for s in saves)
    names = (sealed.rsplit("/", 1)[-1], state.rsplit("/", 1)[-1])
    opened = [s for s in steps[first:here] if _seals(s, names, "openssl enc -d ")]
    closed = [s for s in steps[here + 1 : last] if _seals(s, names, "openssl enc -aes")]
    if not opened:
        problems.append(
            f"the --state-dir ({state}) is not opened from the restored cache ({sealed}) with "
            "openssl enc -d and a secret's passphrase before the run"
        )
    if not closed or not all("always()" in str(s.get("if", "")) for s in closed):
        problems.append(
            f"the --state-dir ({state}) is not sealed into the cache ({sealed}) with openssl enc "
            "and a secret's passphrase, always(), before the save"
        )
    return problems


def _seals(step: Mapping[str, Any], names: tuple[str, str], command: str) -> bool:
    """The step runs `command` on both directories, its passphrase from a secret."""
    run = str(step.get("run", ""))
    secret = re.search(r"-pass env:(\w+)", run)
    env = {k: str(v) for k, v in (step.get("env") or {}).items()}
    from_secret = secret is not None and "secrets." in env.get(secret.group(1), "")
    return command in run and from_secret and all(name in run for name in names)


# ---------------------------------------------------------------------- GitLab


def gitlab_notify_problems(text: str) -> list[str]:
    doc = load(text)
    found: list[str] = []
    default = doc.get("default") or {}
    for name, job in doc.items():
        if not isinstance(job, dict) or name.startswith(".") or "script" not in job:
            continue
        cache = job.get("cache", default.get("cache"))
        caches = cache if isinstance(cache, list) else [cache] if cache else []
        ours = [c for c in caches if STATE_PREFIX in str(c.get("key", ""))]
        if any(c.get("unprotect") for c in ours):
            found.append(f"{name}: unprotect: an unprotected branch's pipeline can write the state")
        script = "\n".join(str(line) for line in job.get("script") or ())
        for line in notifying_lines(script):
            found += [f"{name}: {p}" for p in _gitlab_line(line, job, ours)]
    return found


def _gitlab_line(line: str, job: Mapping[str, Any], caches: list[Mapping[str, Any]]) -> list[str]:
    notify = option(line, "--notify")
    if notify is None:
        return [f"audits or converges without --notify (nobody is told): {line}"]
    problems: list[str] = []
    if "$" in notify:
        problems.append(
            f"its notifications file is named by a variable ({notify}), which a pipeline "
            "variable overrides: name it in the script"
        )
    if runs_merge_request_code(job):
        problems.append("its notifications file is a merge request's copy (merge-request rules)")
    for rule in job.get("rules") or ():
        condition = str(rule.get("if", ""))
        if rule.get("when") != "never" and not all(p in condition for p in GITLAB_DEFAULT_ONLY):
            problems.append(f"a pipeline of an unprotected branch writes the state: {condition}")
    state = (option(line, "--state-dir") or ".reconcile").strip("./")
    if not caches:
        problems.append("its notification state is kept in no cache (key reconcile-notify...)")
    for cache in caches:
        if state not in [str(p).strip("./") for p in cache.get("paths") or ()]:
            problems.append(f"the cache does not keep the --state-dir ({state})")
        if cache.get("policy") != "pull-push":
            problems.append("the state cache's policy is not pull-push: the state is not kept")
        if cache.get("when") != "always":
            problems.append("the state is not saved when the job fails (when: always)")
    return problems
