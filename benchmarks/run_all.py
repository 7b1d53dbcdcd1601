"""Run every benchmark in `benchmarks/` and record them: one command for all the figures.

    python benchmarks/run_all.py                 # everything (about 20-30 minutes on 2 cores)
    python benchmarks/run_all.py --only plan     # the runs whose name contains "plan"
    python benchmarks/run_all.py --skip 100k --no-record

Each benchmark runs as its own process, one after another (they would disturb each other's
timings), from the project root. The ones that record themselves append their dated section to
`benchmarks/RESULTS.md`; for the ones that only print (`bench_sandbox_faults.py`), this script
appends their output. At the end it appends one section saying what ran, when, on which machine,
how long each took and whether it succeeded. A `bench_*.py` added later and not listed in `RUNS`
is run too, with its defaults. Exit status 1 when any benchmark failed.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HERE = ROOT / "benchmarks"
RESULTS = HERE / "RESULTS.md"

Outcome = tuple[str, str, float, int]  # name, command shown, seconds, exit status

# (name, script, arguments, records itself). Order: quick ones first.
RUNS: tuple[tuple[str, str, tuple[str, ...], bool], ...] = (
    ("startup", "bench_startup.py", (), True),
    ("validate", "bench_validate.py", (), True),
    ("schema engines", "bench_schema_engines.py", (), True),
    ("sandbox throughput", "bench_sandbox_throughput.py", (), True),
    ("sandbox list", "bench_sandbox_list.py", (), True),
    ("sandbox faults", "bench_sandbox_faults.py", (), False),
    ("plan 10k", "bench_plan.py", (), True),
    ("plan 100k", "bench_plan.py", ("--customers", "100000"), True),
    ("expense configs 10k", "bench_plan_configs.py", (), True),
    ("apply 1k", "bench_apply.py", (), True),
    ("apply lean 1k", "bench_apply_lean.py", (), True),
    ("audit and export", "bench_audit_export.py", (), True),
    ("audit and export, messy", "bench_audit_export.py", ("--messy", "--runs", "1"), True),
    ("converge and watch 10k", "bench_watch.py", (), True),
    ("status page 10k", "bench_status_page.py", (), True),
    ("audit --health 10k", "bench_health.py", (), True),
)


def planned_runs() -> list[tuple[str, str, tuple[str, ...], bool]]:
    """`RUNS` whose script exists, then any other `bench_*.py` with its defaults."""
    runs = [run for run in RUNS if (HERE / run[1]).exists()]
    listed = {script for _, script, _, _ in RUNS}
    for path in sorted(HERE.glob("bench_*.py")):
        if path.name not in listed:
            runs.append((path.stem.removeprefix("bench_").replace("_", " "), path.name, (), True))
    return runs


def machine() -> str:
    return (
        f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"load average {os.getloadavg()[0]:.1f} at the start"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", default=[], help="run names containing TEXT")
    parser.add_argument("--skip", action="append", default=[], help="skip names containing TEXT")
    parser.add_argument("--no-record", action="store_true", help="nothing appended to RESULTS.md")
    args = parser.parse_args()
    runs = [
        run
        for run in planned_runs()
        if (not args.only or any(text in run[0] for text in args.only))
        and not any(text in run[0] for text in args.skip)
    ]
    started_at = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    header = machine()
    outcomes: list[Outcome] = []
    for name, script, extra, records in runs:
        argv = [sys.executable, str(HERE / script), *extra]
        if args.no_record and records:
            argv.append("--no-record")
        shown = " ".join(["python", f"benchmarks/{script}", *extra])
        print(f"== {name}: {shown}", flush=True)
        started = time.perf_counter()
        done = subprocess.run(argv, cwd=ROOT, stdout=subprocess.PIPE, text=True, check=False)
        seconds = time.perf_counter() - started
        print(done.stdout, end="", flush=True)
        print(f"== {name}: exit {done.returncode} after {seconds:.0f} s\n", flush=True)
        outcomes.append((name, shown, seconds, done.returncode))
        if not records and not args.no_record and done.returncode == 0:
            record_output(name, shown, done.stdout)
    failed = [name for name, _, _, code in outcomes if code != 0]
    if not args.no_record:
        record_summary(started_at, header, outcomes)
    print("failed: " + ", ".join(failed) if failed else f"all {len(outcomes)} benchmarks ran")
    return 1 if failed else 0


def record_output(name: str, shown: str, output: str) -> None:
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    section = (
        f"\n## {name.capitalize()} (run_all, {stamp})\n\n`{shown}` on {machine()}; its output:\n\n"
        f"```\n{output.rstrip()}\n```\n"
    )
    with RESULTS.open("a", encoding="utf-8") as fh:
        fh.write(section)


def record_summary(started_at: str, header: str, outcomes: list[Outcome]) -> None:
    rows = "".join(
        f"| {name} | `{shown}` | {seconds:.0f} s | {'ok' if code == 0 else f'FAILED ({code})'} |\n"
        for name, shown, seconds, code in outcomes
    )
    section = (
        f"\n## run_all ({started_at})\n\n`python benchmarks/run_all.py` on {header}: every "
        "benchmark in turn; each one's figures are in its own section above.\n\n"
        "| benchmark | command | took | result |\n| --- | --- | ---: | --- |\n" + rows
    )
    with RESULTS.open("a", encoding="utf-8") as fh:
        fh.write(section)


if __name__ == "__main__":
    sys.exit(main())
