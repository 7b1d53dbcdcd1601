"""Which CI jobs run pull-request code, and which of them can see a secret.

Read from the workflow files themselves (GitHub Actions and GitLab CI), for tests/ci/test_ci_kit.py.

GitHub. A workflow started by `pull_request` (or another event that runs the pull request's own
copy of the workflow) runs pull-request code in every job. One started by `pull_request_target`
or `workflow_run` runs the default branch's copy; a job of it runs pull-request code when it
checks out the pull request's commit other than as data only: data only means sparse
(non-cone), into a subdirectory, with `persist-credentials: false`, and afterwards no local
action, no `python` without `-P`, no `pip install`, and no command other than a few readers
(`reconcile`, `find`, `cat`, ...) touching that directory. A job sees a secret when it names
`secrets.X` (other than GITHUB_TOKEN) or inherits them, or the workflow's own `env:` does.

GitLab. A job runs merge-request code when its rules admit merge-request pipelines (those run
the merge request's own `.gitlab-ci.yml`). It sees a secret when its script, its variables or
the defaults name a variable that looks like one (`*KEY*`, `*TOKEN*`, `*SECRET*`,
`*PASSWORD*`, as `$X` or read from the environment; CI_JOB_TOKEN aside), runs a reconcile
command that reads CODAT_API_KEY from the environment, or asks for `secrets:` / `id_tokens:`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

UNTRUSTED_EVENTS = frozenset(
    {"pull_request", "pull_request_review", "pull_request_review_comment", "merge_group"}
)
PR_REFS = re.compile(
    r"github\.event\.pull_request\.head|github\.head_ref|github\.event\.workflow_run\.head"
    r"|refs/pull/|github\.event\.pull_request\.merge_commit_sha"
)
SECRET = re.compile(r"\bsecrets\.(?!GITHUB_TOKEN\b)\w+")
DATA_READERS = frozenset({"reconcile", "find", "cat", "ls", "test", "[", "wc", "sha256sum"})
_ASSIGN = re.compile(r"^(?:[A-Za-z_]\w*=\$\(|\$\(|!\s*)")
SECRET_VARIABLE = re.compile(
    r"(?:\$\{?|environ\[[\"']|environ\.get\([\"']|getenv\([\"'])"
    r"((?!CI_JOB_TOKEN\b)[A-Z0-9_]*(?:KEY|TOKEN|SECRET|PASSWORD)\w*)"
)
# reconcile commands that talk to Codat read CODAT_API_KEY from the environment unnamed.
# The CI kit this module reads.
KIT = Path(__file__).resolve().parents[2] / "examples" / "ci"
KEYED_COMMAND = re.compile(r"\breconcile\s+(plan|apply|audit|export|converge|watch)\b")


def load(text: str) -> dict[str, Any]:
    doc: dict[Any, Any] = yaml.safe_load(text)
    if True in doc:  # YAML 1.1 reads the key `on` as a boolean
        doc["on"] = doc.pop(True)
    return doc


def load_file(path: Path) -> dict[str, Any]:
    """A workflow or GitLab CI file of the kit, read as `load` reads it."""
    return load(path.read_text())


def events(doc: Mapping[str, Any]) -> set[str]:
    on = doc.get("on")
    if isinstance(on, str):
        return {on}
    return set(on or ())


# ---------------------------------------------------------------------- GitHub


def github_exposures(doc: Mapping[str, Any]) -> list[str]:
    """`job: why` for each job that runs pull-request code and can see a secret."""
    workflow_env = {k: str(v) for k, v in (doc.get("env") or {}).items()}
    workflow_secret = bool(SECRET.search(yaml.safe_dump(workflow_env)))
    untrusted = bool(events(doc) & UNTRUSTED_EVENTS)
    found = []
    for name, job in (doc.get("jobs") or {}).items():
        why = (
            "the workflow runs the pull request's own copy"
            if untrusted
            else pr_code(job, workflow_env)
        )
        secret = workflow_secret or sees_secret(job)
        if why and secret:
            found.append(f"{name}: {why}, and it can see a secret")
    return found


def sees_secret(job: Mapping[str, Any]) -> bool:
    return job.get("secrets") == "inherit" or bool(SECRET.search(yaml.safe_dump(dict(job))))


def pr_code(job: Mapping[str, Any], workflow_env: Mapping[str, str] | None = None) -> str | None:
    """Why this job runs pull-request code, or None."""
    env = {**(workflow_env or {}), **{k: str(v) for k, v in (job.get("env") or {}).items()}}
    data_dirs: list[str] = []
    for step in job.get("steps") or ():
        uses = str(step.get("uses", ""))
        options = step.get("with") or {}
        if uses.startswith("actions/checkout@") and PR_REFS.search(yaml.safe_dump(dict(options))):
            problem = _not_data_only(options)
            if problem:
                return f"it checks out the pull request {problem}"
            data_dirs.append(str(options["path"]).strip("/"))
            continue
        if not data_dirs:
            continue
        if uses.startswith("./"):
            return f"it runs the local action {uses} after checking out the pull request"
        if str(step.get("working-directory", "")).strip("./").startswith(tuple(data_dirs)):
            return "a step works inside the pull request's checkout"
        step_env = {**env, **{k: str(v) for k, v in (step.get("env") or {}).items()}}
        problem = _runs_from(str(step.get("run", "")), data_dirs, step_env)
        if problem:
            return problem
    return None


def _not_data_only(options: Mapping[str, Any]) -> str | None:
    if options.get("persist-credentials") is not False:
        return "with its credentials kept (persist-credentials is not false)"
    if not options.get("sparse-checkout") or options.get("sparse-checkout-cone-mode") is not False:
        return "whole (not a sparse, non-cone checkout of the data)"
    if str(options.get("path", "")).strip("./") == "":
        return "into the workspace itself"
    return None


def _runs_from(script: str, data_dirs: list[str], env: Mapping[str, str]) -> str | None:
    aliases = [f"${k}" for k, v in env.items() if v.strip("./").startswith(tuple(data_dirs))]
    aliases += [f"${{{k}}}" for k, v in env.items() if v.strip("./").startswith(tuple(data_dirs))]
    for line in script.replace("\\\n", " ").splitlines():
        words = line.strip()
        if re.search(r"(^|[\s;&|(])python[\d.]*\s+(?!-P\b)", words):
            return f"it runs python without -P after checking out the pull request: {words}"
        if re.search(r"\bpip\d?\s+install\b", words):
            return f"it installs after checking out the pull request: {words}"
        touches = any(
            re.search(rf"(^|[\s\"'=]){re.escape(d)}(?=[/\s\"']|$)", words) for d in data_dirs
        )
        if touches or any(alias in words for alias in aliases):
            command = _ASSIGN.sub("", words).split(" ", 1)[0]
            if command not in DATA_READERS:
                return f"it runs {command!r} on the pull request's files: {words}"
    return None


# ---------------------------------------------------------------------- GitLab


def gitlab_exposures(doc: Mapping[str, Any]) -> list[str]:
    default = doc.get("default") or {}
    shared = yaml.safe_dump({"variables": doc.get("variables"), "default": default})
    shared_secret = _secret_names(shared)
    found = []
    for name, job in doc.items():
        if not isinstance(job, dict) or name.startswith(".") or "script" not in job:
            continue
        if not runs_merge_request_code(job):
            continue
        names = shared_secret | _secret_names(yaml.safe_dump(job))
        if job.get("secrets") or job.get("id_tokens"):
            names.add("secrets:/id_tokens:")
        if names:
            found.append(f"{name}: runs in merge-request pipelines and sees {sorted(names)}")
    return found


def runs_merge_request_code(job: Mapping[str, Any]) -> bool:
    only = job.get("only")
    if only is not None:
        return "merge_requests" in yaml.safe_dump(only)
    rules = job.get("rules")
    if rules is None:
        return False  # without rules a job never joins a merge-request pipeline
    return any(
        "merge_request_event" in str(rule.get("if", "")) or "if" not in rule for rule in rules
    )


def _secret_names(text: str) -> set[str]:
    names = set(SECRET_VARIABLE.findall(text))
    if KEYED_COMMAND.search(text):
        names.add("CODAT_API_KEY (read by reconcile)")
    return names


# ---------------------------------------------------------------------- key-holding jobs
#
# Every job that can see a secret runs only for the default branch (or, by design, plans a pull
# request from the default branch's copy of the workflow), in an environment, with actions
# pinned by SHA (the version in a comment), reconcile installed by version and hash from a
# requirements file of the default branch, no checkout that keeps its credentials, and (GitLab)
# nothing a pipeline variable can override deciding where the key goes.

HASHED_INSTALL = re.compile(r"-P -m pip install\b.*--require-hashes -r \S+")
DEFAULT_BRANCH_IF = "github.ref_name == github.event.repository.default_branch"
# The job conditions that admit a dispatch of the default branch only (exactly these).
DEFAULT_BRANCH_IFS = (DEFAULT_BRANCH_IF, f"github.event_name == 'schedule' || {DEFAULT_BRANCH_IF}")
GITLAB_DEFAULT_ONLY = (
    "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH",
    '$CI_COMMIT_REF_PROTECTED == "true"',
)
FIXED_BASE_URL = 'export CODAT_BASE_URL="https://api.codat.io"'


def github_key_jobs(doc: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    return {name: job for name, job in (doc.get("jobs") or {}).items() if sees_secret(job)}


def github_key_problems(text: str) -> list[str]:
    """`job: rule` for each rule a key-holding job of this workflow breaks."""
    doc = load(text)
    found: list[str] = []
    on = events(doc)
    header = "\n".join(line for line in text.splitlines() if line.startswith("#")).lower()
    for name, job in github_key_jobs(doc).items():

        def bad(rule: str, job_name: str = name) -> None:
            found.append(f"{job_name}: {rule}")

        environment = job.get("environment")
        env_name = environment.get("name") if isinstance(environment, dict) else environment
        if not env_name:
            bad("no environment: the key would be a repository secret any branch can read")
        for event in on - {"pull_request_target", "schedule", "workflow_dispatch", "push"}:
            bad(f"runs on {event}")
        if "push" in on:
            branches = (doc["on"].get("push") or {}).get("branches")
            if branches != ["main"]:
                bad(f"runs on a push of {branches!r}, not only the default branch")
        condition = " ".join(str(job.get("if", "")).split())
        if "workflow_dispatch" in on and condition not in DEFAULT_BRANCH_IFS:
            bad("a dispatch on any branch runs it (no default-branch `if:`)")
        if "pull_request_target" in on and pr_code(job, doc.get("env") or {}):
            bad("runs the pull request's code")
        steps = job.get("steps") or ()
        for step in steps:
            uses = str(step.get("uses", ""))
            pinned = re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", uses) and re.search(
                rf"uses:\s*{re.escape(uses)}\s+#\s*v\d", text
            )
            if uses and not pinned:
                bad(f"{uses} is not pinned by full commit SHA with its version in a comment")
            checkout = uses.startswith("actions/checkout@")
            if checkout and (step.get("with") or {}).get("persist-credentials") is not False:
                bad("a checkout keeps its credentials (persist-credentials is not false)")
            run = str(step.get("run", ""))
            for line in run.replace("\\\n", " ").splitlines():
                if re.search(r"\bpip\d?\s+install\b", line) and not HASHED_INSTALL.search(line):
                    bad(f"installs without pinned hashes: {line.strip()}")
        writes = any(re.search(r"\breconcile\s+apply\b", str(s.get("run", ""))) for s in steps)
        if writes and env_name and not _documented_with_reviewers(header, str(env_name)):
            bad(f"writes, and its environment {env_name} is not documented with required reviewers")
    return found


def _documented_with_reviewers(header: str, env_name: str) -> bool:
    """The header's entry for this environment (its line, and the next two unless they start
    another environment's) asks for required reviewers (GitHub) or approvals (GitLab)."""
    lines = header.splitlines()
    for i, line in enumerate(lines):
        if not re.search(rf"(?<![\w-]){re.escape(env_name.lower())}(?![\w-])", line):
            continue
        entry = [line]
        for more in lines[i + 1 : i + 3]:
            if re.search(r"(?<![\w-])codat-[\w-]+", more):
                break
            entry.append(more)
        if re.search(r"required (reviewers|approvals)", " ".join(entry)):
            return True
    return False


def gitlab_key_jobs(doc: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    shared = _secret_names(yaml.safe_dump({"variables": doc.get("variables")}))
    return {
        name: job
        for name, job in doc.items()
        if isinstance(job, dict)
        and not name.startswith(".")
        and "script" in job
        and (shared or _secret_names(yaml.safe_dump(job)) or job.get("secrets"))
    }


def gitlab_key_problems(text: str) -> list[str]:
    doc = load(text)
    found: list[str] = []
    default = doc.get("default") or {}
    header = "\n".join(line for line in text.splitlines() if line.startswith("#")).lower()
    for name, job in gitlab_key_jobs(doc).items():

        def bad(rule: str, job_name: str = name) -> None:
            found.append(f"{job_name}: {rule}")

        if job.get("only") is not None or job.get("rules") is None:
            bad("no rules limiting it to the default branch")
        for rule in job.get("rules") or ():
            condition = str(rule.get("if", ""))
            if rule.get("when") == "never":
                continue
            if "||" in condition or not all(part in condition for part in GITLAB_DEFAULT_ONLY):
                bad(f"a rule admits pipelines of other branches: {condition or rule}")
        environment = job.get("environment")
        if not (environment.get("name") if isinstance(environment, dict) else environment):
            bad("no protected environment")
        for where in (doc.get("variables") or {}, job.get("variables") or {}):
            if "CODAT_BASE_URL" in where:
                bad("CODAT_BASE_URL in `variables:`, which a pipeline variable overrides")
        script = [str(line) for line in job.get("script") or ()]
        keyed = [i for i, line in enumerate(script) if KEYED_COMMAND.search(line)]
        fixed = [i for i, line in enumerate(script) if line.startswith(FIXED_BASE_URL)]
        if keyed and (not fixed or min(fixed) > min(keyed)):
            bad("CODAT_BASE_URL is not fixed in the script before reconcile runs")
        env_name = environment.get("name") if isinstance(environment, dict) else environment
        writes = any(re.search(r"\breconcile\s+apply\b", line) for line in script)
        if writes and env_name and not _documented_with_reviewers(header, str(env_name)):
            bad(f"writes, and its environment {env_name} is not documented with required approvals")
        before = job.get("before_script", default.get("before_script")) or ()
        for line in [*map(str, before), *script]:
            installs = re.search(r"\bpip\d?\s+install\b", line)
            if installs and (not HASHED_INSTALL.search(line) or "$" in line):
                bad(f"installs other than by version and hash from a fixed file: {line}")
    return found
