"""Start-up: `--help` lists commands from the static table; `--help` and `validate` import only
what they use (no HTTP client, no server, no jsonschema, no sandbox)."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import click
import pytest

from reconcile.cli import COMMANDS

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "customers.yaml"
# Heavy or networked packages a command that needs no network must never import.
FORBIDDEN = ("httpx", "httpcore", "anyio", "starlette", "uvicorn", "jsonschema", "aiohttp")
FORBIDDEN_OURS = ("reconcile.sandbox", "reconcile.codat", "reconcile.planner", "reconcile.audit")

# Runs the command line in this fresh interpreter, then prints every module it imported.
PROBE = """
import json, sys
from reconcile.cli import main
try:
    main(sys.argv[1:], prog_name="reconcile")
except SystemExit as exit:
    code = exit.code
print("\\n@@MODULES@@" + json.dumps(sorted(sys.modules)))
sys.exit(code)
"""


def imported_by(*args: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output, _, modules = result.stdout.rpartition("\n@@MODULES@@")
    result.stdout = output
    return result, set(json.loads(modules))


def heavy(modules: set[str]) -> list[str]:
    return sorted(
        name
        for name in modules
        if name.split(".")[0] in FORBIDDEN
        or any(name == ours or name.startswith(ours + ".") for ours in FORBIDDEN_OURS)
    )


@pytest.mark.parametrize(
    "args",
    [["--help"], ["validate", str(EXAMPLE)], ["validate", "--help"], ["schema"]],
    ids=["help", "validate", "validate-help", "schema"],
)
def test_offline_commands_import_nothing_heavy(args: list[str]) -> None:
    result, modules = imported_by(*args)
    assert result.returncode == 0, result.stderr
    assert "reconcile.cli" in modules  # the probe saw the run
    assert heavy(modules) == []


def test_help_imports_no_command_module() -> None:
    result, modules = imported_by("--help")
    assert result.returncode == 0, result.stderr
    loaded = {entry.module for entry in COMMANDS.values()} & modules
    assert loaded == set()
    for name in COMMANDS:
        assert f"  {name} " in result.stdout, name


def test_a_command_that_talks_to_codat_does_import_the_client() -> None:
    """The probe can see an import: `plan --help` loads its module, which needs the client."""
    result, modules = imported_by("plan", "--help")
    assert result.returncode == 0, result.stderr
    assert "reconcile.cli.plan_cmd" in modules


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_table_help_is_the_commands_own_first_line(name: str) -> None:
    entry = COMMANDS[name]
    try:
        module = importlib.import_module(entry.module)
    except ModuleNotFoundError as exc:
        if exc.name != entry.module:
            raise
        pytest.skip(f"{entry.module} is not in this tree yet")
    command = getattr(module, entry.attribute)
    assert isinstance(command, click.Command)
    assert command.help is not None
    assert entry.summary == command.help.strip().splitlines()[0]


GHOST = """
import sys
from reconcile.cli import COMMANDS, CommandEntry, main
COMMANDS["ghost"] = CommandEntry("reconcile.cli.no_such_cmd", "ghost", "Not here.")
main(sys.argv[1:], prog_name="reconcile")
"""


def test_a_missing_command_module_fails_cleanly() -> None:
    """A table entry whose module this tree lacks is listed, and running it says so: exit 1."""

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-c", GHOST, *args]
        return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)

    listed = run("--help")
    assert listed.returncode == 0, listed.stderr
    assert "ghost     Not here." in listed.stdout
    result = run("ghost", "--anything", "x")
    assert result.returncode == 1
    assert result.stderr.startswith("Error: `reconcile ghost` is not available"), result.stderr
    assert "reconcile.cli.no_such_cmd" in result.stderr
    assert "Traceback" not in result.stderr
