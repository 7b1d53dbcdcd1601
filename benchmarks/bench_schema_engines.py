"""Benchmark: the desired file's structure check, by engine, on the 10,000-customer file.

The question of issues 18 and 23: which kept library checks the happy path, `jsonschema-rs`
(Rust) or `fastjsonschema` (compiles to Python). Issue 23 replaced the hand-written predicate
compiler with jsonschema-rs; "reconcile" is the check `validate` runs (`reconcile.desired.schema.
is_valid`: jsonschema-rs behind the package's own import). Measured here, each in a fresh
interpreter (so the import is counted, as `validate` pays it): import, compile the schema,
check the 10,000 customers of `bench_validate.generate` (parsed once by yaml-rs, not timed)
N times; and the import alone against `python -c pass`, since `validate
examples/customers.yaml` pays the import too.

Run from the project root: `python benchmarks/bench_schema_engines.py [--runs N] [--no-record]`.
An engine that is not installed is reported as such.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "RESULTS.md"

PROBE = """
import json, sys, time
sys.path.insert(0, {root!r}); sys.path.insert(0, {bench!r})
import yaml_rs
from bench_validate import generate
data = yaml_rs.loads(generate(10000))
schema = json.loads(open({schema!r}).read())
engine = sys.argv[1]
t0 = time.perf_counter()
if engine == "reconcile":
    from reconcile.desired.schema import is_valid
    t1 = time.perf_counter(); check = is_valid()
elif engine == "jsonschema-rs":
    import jsonschema_rs
    t1 = time.perf_counter(); check = jsonschema_rs.validator_for(schema).is_valid
else:
    import fastjsonschema
    t1 = time.perf_counter(); validate = fastjsonschema.compile(schema)
    def check(doc):
        try:
            validate(doc)
            return True
        except fastjsonschema.JsonSchemaException:
            return False
t2 = time.perf_counter()
runs = []
for _ in range({runs}):
    s = time.perf_counter(); ok = check(data); runs.append(time.perf_counter() - s)
    assert ok
print(json.dumps({{"import": t1 - t0, "compile": t2 - t1, "checks": runs}}))
"""

IMPORTS = {
    "reconcile": "reconcile.desired.schema",
    "jsonschema-rs": "jsonschema_rs",
    "fastjsonschema": "fastjsonschema",
}


def installed(module: str) -> bool:
    probe = [sys.executable, "-c", f"import {module}"]
    return subprocess.run(probe, cwd=ROOT, capture_output=True).returncode == 0


def import_cpu_ms(module: str, runs: int) -> float:
    """Median CPU of `python -c 'import MODULE'` minus that of `python -c pass` (children)."""

    def cpu(code: str) -> float:
        before = os.times()
        subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)
        after = os.times()
        return (after.children_user - before.children_user) + (
            after.children_system - before.children_system
        )

    pairs = [(cpu(f"import {module}"), cpu("pass")) for _ in range(runs)]
    return statistics.median(a - b for a, b in pairs) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    code = PROBE.format(
        root=str(ROOT),
        bench=str(ROOT / "benchmarks"),
        schema=str(ROOT / "schemas" / "customers.schema.json"),
        runs=args.runs,
    )
    lines = [
        "| engine | import (in process) | import CPU (fresh process, minus `pass`) | compile "
        "| check 10k (best) | check 10k (median) |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for engine, module in IMPORTS.items():
        if not installed(module):
            lines.append(f"| {engine} | not installed | | | | |")
            continue
        done = subprocess.run(
            [sys.executable, "-c", code, engine], cwd=ROOT, capture_output=True, text=True
        )
        if done.returncode != 0:
            lines.append(f"| {engine} | failed: {done.stderr.strip().splitlines()[-1]} | | | | |")
            continue
        got = json.loads(done.stdout)
        fresh = import_cpu_ms(module, args.runs)
        lines.append(
            f"| {engine} | {got['import'] * 1000:.1f} ms | {fresh:.0f} ms"
            f" | {got['compile'] * 1000:.1f} ms | {min(got['checks']) * 1000:.1f} ms"
            f" | {statistics.median(got['checks']) * 1000:.1f} ms |"
        )
    print("\n".join(lines))
    if not args.no_record:
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        with RESULTS.open("a", encoding="utf-8") as fh:
            fh.write(
                f"\n## Desired state: the structure check by engine ({stamp})\n\n"
                f"`python benchmarks/bench_schema_engines.py` on {platform.machine()}, "
                f"{os.cpu_count()} CPUs, Python {platform.python_version()}, load average "
                f"{os.getloadavg()[0]:.1f}: the 10,000-customer file, each engine in a fresh "
                "interpreter.\n\n" + "\n".join(lines) + "\n"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
