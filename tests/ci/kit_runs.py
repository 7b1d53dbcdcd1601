"""Run the kit's steps as CI would, against the served sandbox: `run_step` runs one command
line or script with the workflow's env (secrets become the test keys), and `GitHubJob` runs a
GitHub job's reconcile and state steps on a fresh runner, its `actions/cache` restore and save
played by a directory that outlives the runner (a cold start: delete it)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from tests.ci.ci_exposure import KIT, load_file
from tests.ci.ci_notify import notifying_lines
from tests.ci.test_ci_kit import resolve
from tests.conftest import TEST_API_KEY

RUNNER_TEMP = "${{ runner.temp }}"


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

    def run(self, workflow: str) -> list[subprocess.CompletedProcess[str]]:
        """The workflow's only job, on a fresh runner: the cache restored, the steps that open
        the state, run reconcile and seal it (each must succeed, with no warning), the cache
        saved."""
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
                assert "::warning::the notifications" not in ran.stdout, ran.stdout
                done.append(ran)
        return done
