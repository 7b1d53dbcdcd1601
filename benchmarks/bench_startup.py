"""Benchmark: start-up as a new user meets it, next to its yardsticks in the same run.

Four commands, run in turn (A B C D A B C D ...) so that the machine's drift hits them alike:
`reconcile --help`, `reconcile validate examples/customers.yaml`, `python -c pass` and
`python -c "import click"`. `reconcile` is the installed console script when there is one (as
pip installs it), else `python -m reconcile`. The package's bytecode is compiled first, as pip
compiles a wheel's (with PYTHONDONTWRITEBYTECODE set nothing would ever be cached).

Reported per command: median wall and median CPU (user + system of the child), and the ratio of
each reconcile command to `import click`. Targets (issue 18): `--help` and `validate` <= 150 ms
median wall.

Run from the project root: `python benchmarks/bench_startup.py [--runs N] [--no-record]`.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
TARGET_MS = 150.0


def reconcile_argv() -> list[str]:
    script = Path(sys.executable).parent / "reconcile"
    if script.exists():
        return [str(script)]
    found = shutil.which("reconcile")
    return [found] if found else [sys.executable, "-m", "reconcile"]


def timed(argv: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds of one run of `argv` (its output thrown away)."""
    before = os.times()
    started = time.perf_counter()
    subprocess.run(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    wall = time.perf_counter() - started
    after = os.times()
    cpu = (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )
    return wall, cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    subprocess.run([sys.executable, "-m", "compileall", "-q", "reconcile"], cwd=ROOT, check=True)
    commands = {
        "reconcile --help": [*reconcile_argv(), "--help"],
        "reconcile validate examples/customers.yaml": [
            *reconcile_argv(),
            "validate",
            "examples/customers.yaml",
        ],
        "python -c pass": [sys.executable, "-c", "pass"],
        'python -c "import click"': [sys.executable, "-c", "import click"],
    }
    for argv in commands.values():  # warm the page cache
        timed(argv)
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
    for _ in range(args.runs):
        for name, argv in commands.items():
            samples[name].append(timed(argv))
    click_wall = statistics.median(w for w, _ in samples['python -c "import click"'])
    lines = [
        "| command | wall (median) | CPU (median) | wall / import click | target |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, runs in samples.items():
        wall = statistics.median(w for w, _ in runs) * 1000
        cpu = statistics.median(c for _, c in runs) * 1000
        target = ""
        if name.startswith("reconcile"):
            target = f"<= {TARGET_MS:.0f} ms: {'met' if wall <= TARGET_MS else 'MISSED'}"
        lines.append(
            f"| `{name}` | {wall:.0f} ms | {cpu:.0f} ms | {wall / 1000 / click_wall:.2f}x "
            f"| {target} |"
        )
    load = f"load average {os.getloadavg()[0]:.1f}"
    print("\n".join(lines))
    print(load)
    if not args.no_record:
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        with RESULTS.open("a", encoding="utf-8") as fh:
            fh.write(
                f"\n## Start-up: `--help` and `validate` ({stamp})\n\n"
                f"`python benchmarks/bench_startup.py` on {platform.machine()}, "
                f"{os.cpu_count()} CPUs, Python {platform.python_version()}, {load}: "
                f"{args.runs} runs of each command in turn, bytecode compiled, "
                f"`{' '.join(Path(a).name for a in reconcile_argv())}` as installed.\n\n"
                + "\n".join(lines)
                + "\n"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
