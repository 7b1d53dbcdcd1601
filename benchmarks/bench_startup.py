"""Benchmark: start-up as a new user meets it, next to its yardsticks in the same run.

Five commands, run in turn (A B C D E A B C D E ...) so that the machine's drift hits them alike:
`reconcile --help`, `reconcile validate examples/customers.yaml`, `reconcile plan` of a
one-customer file against a sandbox holding that one company (served on loopback by a real
server, `tests/support/sandbox_server.py`; the file applied first), `python -c pass` and
`python -c "import click"`. `reconcile` is the installed console script when there is one (as
pip installs it), else `python -m reconcile`. The package's bytecode is compiled first, as pip
compiles a wheel's (with PYTHONDONTWRITEBYTECODE set nothing would ever be cached).

Reported per command: median wall and median CPU (user + system of the child), the ratio of
each reconcile command to `import click`, and the imports of one `python -X importtime` run of
each reconcile command (the sum of its top-level imports: inflated by the tracing itself).
Targets (issue 27), median wall: `--help` <= 100 ms, `validate` <= 150 ms, the one-customer
`plan` <= 300 ms.

Run from the project root: `python benchmarks/bench_startup.py [--runs N] [--no-record]`.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.sandbox_server import serve_sandbox  # noqa: E402

RESULTS = ROOT / "benchmarks" / "RESULTS.md"
HELP = "reconcile --help"
VALIDATE = "reconcile validate examples/customers.yaml"
PLAN = "reconcile plan one.yaml (one customer, loopback sandbox)"
TARGETS_MS = {HELP: 100.0, VALIDATE: 150.0, PLAN: 300.0}
KEY = "bench-startup-key"
ONE_CUSTOMER = """version: 1
owner: bench-startup
customers:
  - uid: cus-0001
    name: Sawayn Group
    accounting: quickbooks-online
"""
# A top-level line of `python -X importtime`: "import time: SELF | CUMULATIVE | NAME".
TOP_LEVEL_IMPORT = re.compile(r"import time:\s+\d+ \|\s+(\d+) \| (\S+)$")


def reconcile_argv() -> list[str]:
    script = Path(sys.executable).parent / "reconcile"
    if script.exists():
        return [str(script)]
    found = shutil.which("reconcile")
    return [found] if found else [sys.executable, "-m", "reconcile"]


def timed(argv: list[str], env: Mapping[str, str] | None = None) -> tuple[float, float]:
    """Wall and CPU seconds of one run of `argv` (its output thrown away)."""
    before = os.times()
    started = time.perf_counter()
    subprocess.run(
        argv,
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=True,
    )
    wall = time.perf_counter() - started
    after = os.times()
    cpu = (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )
    return wall, cpu


def import_ms(argv: list[str], env: Mapping[str, str] | None) -> tuple[float, list[str]]:
    """One `python -X importtime` run of a reconcile command: the sum of its top-level imports
    and the five largest."""
    command = [sys.executable, "-X", "importtime", "-m", "reconcile", *argv[1:]]
    if argv[0] == sys.executable:  # python -m reconcile ARGS
        command = [sys.executable, "-X", "importtime", *argv[1:]]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    top = [
        (int(m.group(1)) / 1000, m.group(2))
        for line in done.stderr.splitlines()
        if (m := TOP_LEVEL_IMPORT.match(line))
    ]
    largest = sorted(top, reverse=True)[:5]
    return sum(ms for ms, _ in top), [f"{name} {ms:.0f}" for ms, name in largest]


def served_one_customer(stack: ExitStack) -> tuple[Path, dict[str, str]]:
    """A one-customer file applied to a sandbox served on loopback; the file and the
    environment that points `reconcile` at that sandbox."""
    directory = Path(stack.enter_context(tempfile.TemporaryDirectory()))
    url = stack.enter_context(
        serve_sandbox(directory / "sandbox.db", "--api-key", KEY, "--daily-quota", "none")
    )
    path = directory / "one.yaml"
    path.write_text(ONE_CUSTOMER)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("CODAT_")},
        "CODAT_BASE_URL": url,
        "CODAT_API_KEY": KEY,
    }
    apply = [*reconcile_argv(), "apply", str(path), "--auto-approve"]
    subprocess.run(apply, cwd=directory, env=env, capture_output=True, check=True)
    return path, env


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    subprocess.run([sys.executable, "-m", "compileall", "-q", "reconcile"], cwd=ROOT, check=True)
    with ExitStack() as stack:
        one, plan_env = served_one_customer(stack)
        commands: dict[str, tuple[list[str], Mapping[str, str] | None]] = {
            HELP: ([*reconcile_argv(), "--help"], None),
            VALIDATE: ([*reconcile_argv(), "validate", "examples/customers.yaml"], None),
            PLAN: ([*reconcile_argv(), "plan", str(one)], plan_env),
            "python -c pass": ([sys.executable, "-c", "pass"], None),
            'python -c "import click"': ([sys.executable, "-c", "import click"], None),
        }
        for argv, env in commands.values():  # warm the page cache
            timed(argv, env)
        samples: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
        for _ in range(args.runs):
            for name, (argv, env) in commands.items():
                samples[name].append(timed(argv, env))
        imports = {name: import_ms(*commands[name]) for name in TARGETS_MS}
    click_wall = statistics.median(w for w, _ in samples['python -c "import click"'])
    pass_wall = statistics.median(w for w, _ in samples["python -c pass"])
    lines = [
        "| command | wall (median) | CPU (median) | wall / import click | imports (importtime)"
        " | target |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    verdicts = []
    for name, runs in samples.items():
        wall = statistics.median(w for w, _ in runs) * 1000
        cpu = statistics.median(c for _, c in runs) * 1000
        target, imported = "", ""
        if name in TARGETS_MS:
            verdict = "met" if wall <= TARGETS_MS[name] else "MISSED"
            target = f"<= {TARGETS_MS[name]:.0f} ms: {verdict}"
            verdicts.append(f"{name}: {wall:.0f} ms, {target}")
            total, largest = imports[name]
            imported = f"{total:.0f} ms ({', '.join(largest)})"
        lines.append(
            f"| `{name}` | {wall:.0f} ms | {cpu:.0f} ms | {wall / 1000 / click_wall:.2f}x "
            f"| {imported} | {target} |"
        )
    load = f"load average {os.getloadavg()[0]:.1f}"
    print("\n".join(lines))
    print(f"python -c pass: {pass_wall * 1000:.0f} ms; {load}")
    print("\n".join(verdicts))
    if not args.no_record:
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        with RESULTS.open("a", encoding="utf-8") as fh:
            fh.write(
                f"\n## Start-up: `--help`, `validate` and a one-customer `plan` ({stamp})\n\n"
                f"`python benchmarks/bench_startup.py` on {platform.machine()}, "
                f"{os.cpu_count()} CPUs, Python {platform.python_version()}, {load}: "
                f"{args.runs} runs of each command in turn, bytecode compiled, "
                f"`{' '.join(Path(a).name for a in reconcile_argv())}` as installed; the plan "
                "against a sandbox served on loopback holding its one company.\n\n"
                + "\n".join(lines)
                + "\n"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
