"""Start-up: `--help` lists commands from the static table; each command path imports only what
it uses. `--help` and `validate`: no HTTP client, no server, no jsonschema, no sandbox. `plan` and
`apply` against a URL: no audit (deepdiff), no sandbox (starlette), no server, no jsonschema, no
aiohttp for a run of a few requests (issue 27), no msgspec for a listing of small pages. Each
check has a control: the same check catches the module on a path that needs it."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

import click
import pytest

from reconcile.cli import COMMANDS
from tests.conftest import TEST_API_KEY
from tests.plans.file.saved_support import TEST_SIGNING_KEY, customers_file, unique_owner

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "customers.yaml"
# Heavy or networked packages a command that needs no network must never import.
FORBIDDEN = ("httpx", "httpcore", "anyio", "starlette", "uvicorn", "jsonschema", "aiohttp")
FORBIDDEN_OURS = ("reconcile.sandbox", "reconcile.codat", "reconcile.planner", "reconcile.audit")

# What `plan` and `apply` against a URL must never import (of a run of a few requests).
NETWORK_FORBIDDEN = ("aiohttp", "jsonschema", "deepdiff", "starlette", "uvicorn", "msgspec")
NETWORK_FORBIDDEN_OURS = ("reconcile.sandbox", "reconcile.audit")

# Runs the command line in this fresh interpreter, then prints every module it imported.
# PROBE_SWITCH_AFTER (a control) sets after how many requests the client moves to aiohttp;
# PROBE_TYPED_FROM (another) from what size a page of companies is read with msgspec.
PROBE = """
import json, os, sys
from reconcile.cli import main
if "PROBE_SWITCH_AFTER" in os.environ:
    from reconcile.codat import transport
    transport.SWITCH_AFTER = int(os.environ["PROBE_SWITCH_AFTER"])
if "PROBE_TYPED_FROM" in os.environ:
    from reconcile.codat import paging
    paging.TYPED_FROM = int(os.environ["PROBE_TYPED_FROM"])
try:
    main(sys.argv[1:], prog_name="reconcile")
except SystemExit as exit:
    code = exit.code
print("\\n@@MODULES@@" + json.dumps(sorted(sys.modules)))
sys.exit(code)
"""


# The same run, but the modules are those imported when it opened its first connection: what
# it imported before it could send anything.
PROBE_AT_CONNECT = """
import sys
connecting = []
def on_connect(event, args):
    if event == "socket.connect" and not connecting:
        connecting.append(sorted(sys.modules))
sys.addaudithook(on_connect)
""" + PROBE.replace("sorted(sys.modules)", "connecting[0] if connecting else []")


def imported_by(
    *args: str, env: dict[str, str] | None = None, cwd: Path = ROOT, probe: str = PROBE
) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """Runs `reconcile ARGS` in a fresh interpreter; its result and every module it imported
    (`PROBE_AT_CONNECT`: before its first connection). `env` is added to this environment,
    without its CODAT_* and signing-key variables."""
    full_env = {
        k: v for k, v in os.environ.items() if not k.startswith(("CODAT_", "RECONCILE_SIGNING"))
    }
    result = subprocess.run(
        [sys.executable, "-c", probe, *args],
        cwd=cwd,
        env={**full_env, "NO_COLOR": "1", **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )
    output, _, modules = result.stdout.rpartition("\n@@MODULES@@")
    result.stdout = output
    return result, set(json.loads(modules))


def heavy(
    modules: set[str],
    forbidden: Iterable[str] = FORBIDDEN,
    forbidden_ours: Iterable[str] = FORBIDDEN_OURS,
) -> list[str]:
    """The modules of `forbidden` packages and of `forbidden_ours` (with their submodules)."""
    packages, ours = frozenset(forbidden), tuple(forbidden_ours)
    return sorted(
        name
        for name in modules
        if name.split(".")[0] in packages
        or any(name == mine or name.startswith(mine + ".") for mine in ours)
    )


def network_heavy(modules: set[str], *also: str) -> list[str]:
    """What `plan`/`apply` against a URL imported and must not have (`also`: more of ours)."""
    return heavy(modules, NETWORK_FORBIDDEN, (*NETWORK_FORBIDDEN_OURS, *also))


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
    assert "html" not in modules  # only the Markdown and HTML escapes need it


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


# ---------------------------------------------------------------------- against a served sandbox

ONE_CUSTOMER = """version: 1
owner: expenses-demo
customers:
  - uid: cus-0001
    name: Sawayn Group
    accounting: quickbooks-online
"""


def codat_env(url: str) -> dict[str, str]:
    return {
        "CODAT_BASE_URL": url,
        "CODAT_API_KEY": TEST_API_KEY,
        "RECONCILE_SIGNING_KEY": TEST_SIGNING_KEY,
    }


@pytest.fixture(scope="module")
def one_customer(
    sandbox_url: str, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, set[str]]:
    """A one-customer file of its own owner, applied to the session's served sandbox by the
    probe; the file and the modules that apply (two creates) imported."""
    directory = tmp_path_factory.mktemp("startup")
    path = customers_file(directory, unique_owner("startup"), ONE_CUSTOMER)
    result, modules = imported_by(
        "apply", str(path), "--auto-approve", env=codat_env(sandbox_url), cwd=directory
    )
    assert result.returncode == 0, result.stderr
    assert "Apply complete: 2 created" in result.stdout, result.stdout
    return path, modules


def test_apply_against_a_url_imports_nothing_heavy(one_customer: tuple[Path, set[str]]) -> None:
    _, modules = one_customer
    assert {"reconcile.executor", "reconcile.planner", "httpx"} <= modules  # the path ran
    assert network_heavy(modules, "reconcile.plans.file") == []


@pytest.mark.parametrize("fmt", ["text", "json", "markdown"])
def test_plan_against_a_url_imports_nothing_heavy(
    one_customer: tuple[Path, set[str]], sandbox_url: str, fmt: str
) -> None:
    path, _ = one_customer
    args = ("plan", str(path), "--format", fmt, "--detailed-exitcode")
    result, modules = imported_by(*args, env=codat_env(sandbox_url), cwd=path.parent)
    assert result.returncode == 0, result.stderr  # read, planned: no changes
    assert "Reading Codat: 1 managed companies (2 requests)" in result.stderr  # and the account
    assert {"reconcile.planner", "reconcile.codat.client", "httpx"} <= modules
    # A plan changes nothing: neither the executor nor the saved-plan reader is loaded.
    assert network_heavy(modules, "reconcile.plans.file", "reconcile.executor") == []


@pytest.fixture(scope="module")
def saved_plan(one_customer: tuple[Path, set[str]], sandbox_url: str) -> Path:
    """`plan --out` of the one-customer file; checked as `plan` is, but for the saved plan's
    own modules (it writes one)."""
    path, _ = one_customer
    saved = path.parent / "plan.json"
    args = ("plan", str(path), "--out", str(saved))
    result, modules = imported_by(*args, env=codat_env(sandbox_url), cwd=path.parent)
    assert result.returncode == 0, result.stderr
    assert "reconcile.plans.file.document" in modules  # the path ran
    assert network_heavy(modules) == []
    return saved


def test_a_saved_plan_applied_imports_no_schema_validator(
    saved_plan: Path, sandbox_url: str
) -> None:
    """`apply --plan`: the saved-plan reader, but no jsonschema for a valid plan (jsonschema-rs
    decides; jsonschema only words the problems of an invalid one)."""
    args = ("apply", "--plan", str(saved_plan))
    result, modules = imported_by(*args, env=codat_env(sandbox_url), cwd=saved_plan.parent)
    assert result.returncode == 0, result.stderr
    assert "Nothing to apply" in result.stdout + result.stderr
    assert {"reconcile.plans.file.reader", "reconcile.executor"} <= modules  # the path ran
    assert network_heavy(modules) == []


@pytest.mark.parametrize("fmt", ["text", "json", "markdown"])
def test_show_of_a_saved_plan_imports_nothing_heavy(saved_plan: Path, fmt: str) -> None:
    """`show` reads a file: no client, no asyncio, no executor, as `validate`."""
    env = {"RECONCILE_SIGNING_KEY": TEST_SIGNING_KEY}
    args = ("show", str(saved_plan), "--format", fmt)
    result, modules = imported_by(*args, env=env, cwd=saved_plan.parent)
    assert result.returncode == 0, result.stderr
    assert "reconcile.plans.file.reader" in modules  # the path ran
    assert heavy(modules) == []
    assert {"asyncio", "reconcile.executor"} & modules == set()
    assert ("html" in modules) == (fmt == "markdown")  # the control of the offline commands'


def test_export_against_a_url_imports_nothing_heavy(
    one_customer: tuple[Path, set[str]], sandbox_url: str
) -> None:
    """`export` reads and writes a file: no audit (it shares only a usage-error class with
    it), no planner, no executor."""
    path, _ = one_customer
    owner = path.read_text().split("owner: ", 1)[1].split()[0]
    args = ("export", "--owner", owner)
    result, modules = imported_by(*args, env=codat_env(sandbox_url), cwd=path.parent)
    assert result.returncode == 0, result.stderr
    assert f"owner: {owner}" in result.stdout  # the path ran
    extra = ("reconcile.planner", "reconcile.executor", "reconcile.plans.file")
    assert network_heavy(modules, *extra) == []


def test_control_the_audit_path_does_import_the_audit(
    one_customer: tuple[Path, set[str]], sandbox_url: str
) -> None:
    """The same check catches the audit and deepdiff where they belong."""
    path, _ = one_customer
    result, modules = imported_by("audit", str(path), env=codat_env(sandbox_url), cwd=path.parent)
    assert result.returncode in (0, 2), result.stderr
    found = network_heavy(modules)
    assert "reconcile.audit" in found and "deepdiff" in found


@pytest.mark.parametrize(
    ("probe", "module"),
    [("PROBE_SWITCH_AFTER", "aiohttp"), ("PROBE_TYPED_FROM", "msgspec")],
    ids=["many-requests", "large-pages"],
)
def test_control_a_large_run_does_import_its_modules(
    one_customer: tuple[Path, set[str]], sandbox_url: str, probe: str, module: str
) -> None:
    """The same plan, told to move to aiohttp from its first request, or to read its pages as
    large ones are (msgspec): the check catches the module."""
    path, _ = one_customer
    env = {**codat_env(sandbox_url), probe: "0"}
    result, modules = imported_by("plan", str(path), env=env, cwd=path.parent)
    assert result.returncode == 0, result.stderr
    assert module in network_heavy(modules)


def test_control_the_embedded_sandbox_path_does_import_the_sandbox(tmp_path: Path) -> None:
    """`plan --sandbox-db`: the sandbox and starlette, caught by the same check."""
    path = customers_file(tmp_path, unique_owner("startup"), ONE_CUSTOMER)
    db = tmp_path / "sandbox.db"
    result, modules = imported_by("plan", str(path), "--sandbox-db", str(db), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    found = network_heavy(modules)
    assert "reconcile.sandbox" in found and "starlette" in found


def test_a_plan_of_bad_files_imports_neither_the_planner_nor_the_client(
    one_customer: tuple[Path, set[str]], sandbox_url: str
) -> None:
    """Bad input ends `plan` before it sends anything, and before anything the run needs only
    once its first request is out (the planner, the renderers) or to send it (httpx) is
    imported; the control: the plan of the valid file imports all three."""
    path, _ = one_customer
    bad = path.parent / "bad.yaml"
    bad.write_text("version: 1\nowner: o\ncustomers:\n  - name: A\n", encoding="utf-8")
    later = {"reconcile.planner", "reconcile.render.text", "httpx"}
    for plan, code in ((bad, 1), (path, 0)):
        args = ("plan", str(plan))
        result, modules = imported_by(*args, env=codat_env(sandbox_url), cwd=path.parent)
        assert result.returncode == code, result.stderr
        assert modules & later == (set() if plan is bad else later)


# What `plan` needs only once its first request is out: to read the answers (the account, the
# expense configs, the uid holders), to build the model (the builder and the desired model's
# classes, while Codat answers) and to plan and render.
AFTER_SENDING = (
    "reconcile.model.desired",
    "reconcile.facts.account",
    "reconcile.facts.configs",
    "reconcile.facts.holders",
    "reconcile.desired.build",
    "reconcile.planner",
    "reconcile.render.text",
)


def test_a_plan_imports_only_what_sending_needs_before_it_sends(
    one_customer: tuple[Path, set[str]], sandbox_url: str
) -> None:
    """Before its first connection, `plan` has checked the file and imported the client, and
    none of what it needs only later; the control: by its end it imported those."""
    path, _ = one_customer
    args, env = ("plan", str(path)), codat_env(sandbox_url)
    result, before = imported_by(*args, env=env, cwd=path.parent, probe=PROBE_AT_CONNECT)
    assert result.returncode == 0, result.stderr
    assert {"reconcile.desired.checks", "reconcile.codat.client", "httpx"} <= before
    assert set(AFTER_SENDING) & before == set()
    result, after = imported_by(*args, env=env, cwd=path.parent)
    assert result.returncode == 0, result.stderr
    assert set(AFTER_SENDING) <= after
