"""What the benchmarks over a seeded sandbox share (`bench_audit_export.py`, `bench_health.py`):
their options, a fresh sandbox seeded with `sandbox seed`'s population and served on loopback as
a real subprocess, the owner's file exported from it, and the section they append to
benchmarks/RESULTS.md.

Imported by those scripts as `benchmarks.seeded`, after they put the project root on `sys.path`.
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from reconcile.codat import ClientSettings, CodatClient  # noqa: E402
from reconcile.codat.readonly import ReadOnlyClient  # noqa: E402
from reconcile.export import export_text  # noqa: E402
from reconcile.facts.export import read_for_export  # noqa: E402
from reconcile.sandbox.seed import seed_population  # noqa: E402
from tests.support.sandbox_server import serve_sandbox  # noqa: E402

OWNER = "bench"
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
KEY = "bench-key"


def options(doc: str) -> argparse.ArgumentParser:
    """`--companies N` (10,000), `--runs N` (3) and `--no-record`; a script adds its own."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--companies", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-record", action="store_true")
    return parser


@dataclass(frozen=True)
class Seeded:
    url: str  # the served sandbox (loopback)
    folder: Path  # a temporary folder for the run's files, gone afterwards
    counts: dict[str, int]  # what `seed_population` made
    seeding: float  # seconds spent seeding (and preparing)


@contextmanager
def sandbox(
    companies: int, *, prepare: Callable[[Path], Mapping[str, int]] | None = None
) -> Iterator[Seeded]:
    """A fresh sandbox of `companies` companies (seed 1), served with a daily quota no run
    reaches; `prepare(db)` changes its state file before it is served, and what it counts is
    added to the seed's counts."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        db = folder / "sandbox.db"
        started = time.perf_counter()
        counts = seed_population(db, companies, OWNER, seed=1)
        if prepare is not None:
            counts.update(prepare(db))
        seeding = time.perf_counter() - started
        with serve_sandbox(db, "--api-key", KEY, "--daily-quota", "100000000") as url:
            yield Seeded(url, folder, counts, seeding)


def read_only(url: str) -> ReadOnlyClient:
    """A client of the served sandbox that sends nothing but GET."""
    return ReadOnlyClient(KEY, ClientSettings(base_url=url))


async def export_owner(client: CodatClient, path: Path, *, adopt: bool = False) -> str:
    """Write the owner's file to `path` as `export` (or `export --adopt`) would; its text."""
    selection, configs = await read_for_export(client, OWNER, adopt=adopt)
    text, _ = export_text(OWNER, selection, configs, adopt=adopt)
    path.write_text(text, encoding="utf-8")
    return text


def heading(title: str, script: str) -> str:
    """A RESULTS.md section's start: `## TITLE (when)`, then the command and the machine (the
    caller goes on with `: what was run`)."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"\n## {title} ({stamp})\n\n`python benchmarks/{script}` on {platform.machine()}, Python\n"
        f"{platform.python_version()}"
    )


def record(section: str) -> None:
    """Append a dated section to benchmarks/RESULTS.md, and say so."""
    with RESULTS.open("a", encoding="utf-8") as fh:
        fh.write(section)
    print(f"recorded in {RESULTS.relative_to(ROOT)}")
