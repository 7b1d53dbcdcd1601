"""Run the kit's steps as CI would, against the served sandbox: `run_step` runs one command
line or script with the workflow's env (secrets become the test keys), and `GitHubJob` runs a
GitHub job's reconcile and state steps on a fresh runner, its `actions/cache` restore and save
played by a directory that outlives the runner (a cold start: delete it). `deployed` sets up a
deployment the kit's jobs run for: customers applied, a partner's app listening on loopback,
the notifications file that points at it; `told` is what the app verified."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tests.ci.ci_exposure import KIT, load_file
from tests.ci.ci_notify import notifying_lines
from tests.conftest import TEST_API_KEY
from tests.notify.support import notify_file, verified
from tests.plans.file.saved_support import TEST_SIGNING_KEY, customers_file, unique_owner
from tests.sandbox.webhook_receiver import Receiver, receiver
from tests.watch.helpers import new_secret

RUNNER_TEMP = "${{ runner.temp }}"
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def resolve(env: Mapping[str, str]) -> dict[str, str]:
    """Workflow env values: secrets become the test keys (the signing key the tests' signing
    key); any other expression is refused."""
    out: dict[str, str] = {}
    for key, value in env.items():
        for expression in EXPRESSION.findall(value):
            assert expression.startswith("secrets."), f"{key}: unexpected ${{{{ {expression} }}}}"
        out[key] = EXPRESSION.sub(
            lambda m: (
                TEST_SIGNING_KEY if m.group(1) == "secrets.RECONCILE_SIGNING_KEY" else TEST_API_KEY
            ),
            value,
        )
    return out


def run_step(
    script: str, env: dict[str, str], cwd: Path, url: str, extra: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`bash -c script` with `env` resolved, then `extra`, then the sandbox's URL and key."""
    full = {k: v for k, v in os.environ.items() if not k.startswith("CODAT_")}
    full.update(resolve(env))
    full.update(extra or {})
    full.update(
        CODAT_BASE_URL=url,
        CODAT_API_KEY=TEST_API_KEY,
        NO_COLOR="1",
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    )
    return subprocess.run(
        ["bash", "-c", script], cwd=cwd, env=full, capture_output=True, text=True, timeout=180
    )


@dataclass
class GitHubJob:
    """The checkout is `root`; `secrets` are what the job's environment hands it."""

    root: Path
    url: str
    secrets: dict[str, str] = field(default_factory=dict)

    @property
    def cache(self) -> Path:
        """What the cache service holds between runs."""
        return self.root / "cache"

    def run(
        self, workflow: str, *, unopened: bool = False
    ) -> list[subprocess.CompletedProcess[str]]:
        """The workflow's only job, on a fresh runner: the cache restored, the steps that open
        the state, run reconcile and seal it (each must succeed), the cache saved. A warning that
        the state could not be opened fails, unless `unopened` expects it."""
        doc = load_file(KIT / workflow)
        [job] = doc["jobs"].values()
        temp = self.root / "runner-temp"
        shutil.rmtree(temp, ignore_errors=True)
        temp.mkdir()
        github = {
            "RUNNER_TEMP": str(temp),
            "GITHUB_OUTPUT": str(temp / "output"),
            "GITHUB_STEP_SUMMARY": str(temp / "summary"),
        }
        done = []
        for step in job["steps"]:
            uses = str(step.get("uses", ""))
            kept = Path(
                str((step.get("with") or {}).get("path", "")).replace(RUNNER_TEMP, str(temp))
            )
            if "cache/restore@" in uses and self.cache.exists():
                shutil.copytree(self.cache, kept)
            elif "cache/save@" in uses and kept.exists():
                shutil.rmtree(self.cache, ignore_errors=True)
                shutil.copytree(kept, self.cache)
            script = str(step.get("run", ""))
            if "openssl" in script or notifying_lines(script):
                env = {**doc.get("env", {}), **job.get("env", {}), **step.get("env", {})}
                extra = {**github, **self.secrets}
                ran = run_step(f"set -eo pipefail\n{script}", env, self.root, self.url, extra)
                assert ran.returncode == 0, ran.stdout + ran.stderr
                done.append(ran)
        warned = ["::warning::the notifications' state could not" in r.stdout for r in done]
        assert any(warned) is unopened, [r.stdout for r in done]
        return done


def write_notify_file(path: Path, app: Receiver) -> None:
    """The deployment's notifications file: the partner's app, its secret in
    PARTNER_WEBHOOK_SECRET (a name the kit's jobs pass)."""
    secret = "secret_env: PARTNER_WEBHOOK_SECRET"
    channel = f"{{kind: partner_webhook, name: app, url: '{app.url}', {secret}}}"
    notify_file(path, channel)


def told(app: Receiver, secret: str, since: int = 0) -> list[tuple[str, str]]:
    """(type, uid) of what the app received (verified as it verifies them), sorted."""
    events = [verified(d, secret) for d in app.deliveries[since:]]
    return sorted((e["type"], e["data"]["uid"]) for e in events)


@dataclass
class Deployment:
    owner: str
    app: Receiver
    secret: str
    jobs: GitHubJob


@contextmanager
def deployed(root: Path, url: str, prefix: str) -> Iterator[Deployment]:
    """The GitHub kit's deployment in `root` (its checkout): converge.yml's CUSTOMERS applied,
    NOTIFY pointing at a partner's app served on loopback."""
    env = {k: str(v) for k, v in load_file(KIT / "converge.yml")["env"].items()}
    owner = unique_owner(prefix)
    (root / env["CUSTOMERS"]).mkdir(parents=True)
    customers_file(root / env["CUSTOMERS"], owner)
    applying = f"reconcile apply {env['CUSTOMERS']} --auto-approve"
    applied = run_step(applying, env, root, url)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    secret = new_secret()
    with receiver() as app:
        write_notify_file(root / env["NOTIFY"], app)
        yield Deployment(
            owner, app, secret, GitHubJob(root, url, {"PARTNER_WEBHOOK_SECRET": secret})
        )
