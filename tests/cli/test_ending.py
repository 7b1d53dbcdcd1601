"""A plan against Codat ends as soon as its output is written (`reconcile.cli.exits.end_at_once`,
acted on by `reconcile.cli.run`, the real program): no interpreter teardown, the same output and
exit code. Any other command exits as usual."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconcile.sandbox.seed import seed_population
from tests.support.cli import clean_env, codat_env, reconcile
from tests.support.sandbox_server import PROJECT_ROOT, serve_sandbox

OWNER = "ending"
# The program as `python -m reconcile` runs it, with an exit hook that says when the
# interpreter's teardown runs.
PROGRAM = (
    "import atexit, sys\n"
    "atexit.register(lambda: sys.stderr.write('teardown ran\\n'))\n"
    "sys.argv = ['reconcile', *sys.argv[1:]]\n"
    "from reconcile.cli import run\n"
    "run()\n"
)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A served sandbox with a small fleet, and the owner's file of it (`export`)."""
    folder = tmp_path_factory.mktemp("ending")
    seed_population(folder / "s.db", 40, OWNER, seed=5)
    with serve_sandbox(folder / "s.db") as url:
        exported = reconcile("export", "--owner", OWNER, env=codat_env(url), check=True)
        path = folder / "customers.yaml"
        path.write_text(exported.stdout.replace("name: ", "name: Renamed ", 1), encoding="utf-8")
        yield url, path


def program(url: str, *args: str, stdout: int | object = subprocess.PIPE) -> tuple[int, str, str]:
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM, *args],
        stdout=stdout,  # type: ignore[arg-type]
        stderr=subprocess.PIPE,
        text=True,
        cwd=PROJECT_ROOT,
        env=clean_env(codat_env(url)),
        timeout=120,
        check=False,
    )
    return done.returncode, done.stdout or "", done.stderr


def test_a_plan_ends_without_the_teardown_with_its_output_and_code(
    served: tuple[str, Path],
) -> None:
    url, path = served
    usual = reconcile("plan", str(path), "--detailed-exitcode", env=codat_env(url))
    code, out, err = program(url, "plan", str(path), "--detailed-exitcode")
    assert (code, usual.returncode) == (2, 2)  # one customer renamed: changes
    assert out == usual.stdout and "1 to update" in out
    assert "teardown ran" not in err
    code, out, err = program(url, "plan", str(path))
    assert code == 0 and out == usual.stdout and "teardown ran" not in err


def test_a_plan_written_to_a_file_is_whole(served: tuple[str, Path], tmp_path: Path) -> None:
    """A file is block-buffered: ending at once flushes it first."""
    url, path = served
    shown = tmp_path / "plan.txt"
    with shown.open("w", encoding="utf-8") as handle:
        code, _, err = program(url, "plan", str(path), "--format", "json", stdout=handle)
    assert code == 0 and "teardown ran" not in err
    assert shown.read_text(encoding="utf-8").rstrip().endswith("}")


def test_control_other_commands_exit_as_usual(served: tuple[str, Path], tmp_path: Path) -> None:
    url, path = served
    code, _, err = program(url, "validate", str(path))
    assert code == 0 and "teardown ran" in err
    embedded = tmp_path / "embedded.db"  # the embedded sandbox's file is closed as usual
    code, _, err = program(url, "plan", "--sandbox-db", str(embedded), str(path))
    assert code == 0 and "teardown ran" in err
