"""A messy fleet (`sandbox seed --messy`) served on loopback, and its adopted export."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

import httpx

from tests.conftest import AUTH_HEADERS
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


def listed_companies(url: str) -> list[dict[str, Any]]:
    """Every company the served sandbox lists (one page of up to 5,000)."""
    with httpx.Client(base_url=url, headers=AUTH_HEADERS, timeout=30) as http:
        companies: list[dict[str, Any]] = http.get("/companies", params={"pageSize": 5000}).json()[
            "results"
        ]
    return companies


@dataclass
class AdoptedFleet:
    """A messy fleet of `owner` served from `tmp` (`served_messy`), exported with `--adopt` and
    applied (a module fixture: `yield from Fleet.adopted(tmp, owner)`)."""

    url: str
    tmp: Path
    file: Path  # the adopted file, applied

    @classmethod
    def adopted(cls, tmp: Path, owner: str, companies: int = 30) -> Iterator[Self]:
        with served_messy(tmp, owner, companies) as url:
            yield cls(url, tmp, export_adopted(url, owner, tmp / "adopted.yaml", apply=True))

    def write(self, name: str, text: str) -> Path:
        path = self.tmp / name
        path.write_text(text)
        return path

    def company(self, uid: str) -> dict[str, Any]:
        """The company tagged `uid`."""
        tagged = listed_companies(self.url)
        [found] = [c for c in tagged if (c.get("tags") or {}).get("reconcile.uid") == uid]
        return found
