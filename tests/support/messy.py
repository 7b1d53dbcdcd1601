"""A messy fleet (`sandbox seed --messy`) served on loopback, and its adopted export."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.cli import codat_env, reconcile, run_sandbox
from tests.support.sandbox_server import serve_sandbox


@contextmanager
def served_messy(directory: Path, owner: str, companies: int) -> Iterator[str]:
    """`companies` of `owner` seeded with `--messy` into `directory`/sandbox.db, served: yields
    the base URL."""
    db = directory / "sandbox.db"
    seeded = run_sandbox(
        "seed",
        "--db",
        str(db),
        "--companies",
        str(companies),
        "--owner",
        owner,
        "--messy",
        timeout=120,
    )
    assert seeded.returncode == 0, seeded.stderr
    with serve_sandbox(db, "--daily-quota", "10000000") as url:
        yield url


def export_adopted(url: str, owner: str, out: Path, *, apply: bool = False) -> Path:
    """`export --owner OWNER --adopt --out OUT` (then `apply OUT` when asked), each succeeding."""
    exported = reconcile(
        "export", "--owner", owner, "--adopt", "--out", str(out), env=codat_env(url)
    )
    assert exported.returncode == 0 and "Traceback" not in exported.stderr, exported.stderr
    if apply:
        applied = reconcile("apply", str(out), "--auto-approve", env=codat_env(url))
        assert applied.returncode == 0, applied.stdout + applied.stderr
    return out
