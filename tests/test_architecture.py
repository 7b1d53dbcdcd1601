"""The boundaries of docs/design.md §2, checked on the imports each module writes.

The planner is pure; the client knows nothing of plans; the sandbox knows nothing of the
reconciler; rendering decides nothing (it reads plans, it does not talk to Codat).
"""

from __future__ import annotations

import ast
import contextlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "reconcile"
DESIGN = ROOT / "docs" / "design.md"
CITATION = re.compile(r"docs/design\.md\s+§(\d+)")


def imports(module: Path) -> set[str]:
    tree = ast.parse(module.read_text(), str(module))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "reconcile":  # `from reconcile import paths`
                found.update(f"reconcile.{alias.name}" for alias in node.names)
            else:
                found.add(node.module)
    return found


def modules(*parts: str) -> list[Path]:
    base = PACKAGE.joinpath(*parts)
    return sorted(base.rglob("*.py")) if base.is_dir() else [base.with_suffix(".py")]


def offenders(paths: list[Path], allowed: tuple[str, ...], forbidden: tuple[str, ...]) -> list[str]:
    bad = []
    for path in paths:
        for name in imports(path):
            inside = name == "reconcile" or name.startswith("reconcile.")
            if inside and not name.startswith(allowed):
                bad.append(f"{path.relative_to(PACKAGE)} imports {name}")
            if name.split(".")[0] in forbidden:
                bad.append(f"{path.relative_to(PACKAGE)} imports {name}")
    return bad


@pytest.mark.parametrize(
    ("where", "allowed", "forbidden"),
    [
        (("sandbox",), ("reconcile.sandbox", "reconcile.loopback"), ()),
        (
            ("planner",),
            (
                "reconcile.planner",
                "reconcile.model",
                "reconcile.plans",
                "reconcile.paths",
                "reconcile.plan_options",  # its flags, in a leaf module
            ),
            ("httpx", "click", "asyncio", "sqlite3"),
        ),
        (
            ("plans", "__init__"),
            ("reconcile.model", "reconcile.paths"),
            ("httpx", "click", "asyncio"),
        ),
        # model/who.py names a plan's Action (for typing only).
        (("model",), ("reconcile.model", "reconcile.plans"), ("httpx", "click", "asyncio")),
        (
            ("plans", "requests"),
            ("reconcile.model", "reconcile.plans", "reconcile.paths"),
            ("httpx", "click", "asyncio", "sqlite3"),
        ),
        (
            ("codat",),
            ("reconcile.codat", "reconcile.model", "reconcile.paths", "reconcile.loopback"),
            ("click",),
        ),
        (
            ("render",),
            (
                "reconcile.render",
                "reconcile.escape",
                "reconcile.durations",
                "reconcile.plans",
                "reconcile.model",
                "reconcile.executor",
                "reconcile.audit",
                "reconcile.converge",
                "reconcile.runs",  # what a run returns, to render
                "reconcile.durations",  # a leaf utility, as escape is
            ),
            ("httpx", "sqlite3"),
        ),
        (
            ("converge", "classify"),
            ("reconcile.model", "reconcile.plans"),
            ("httpx", "click", "asyncio", "sqlite3"),
        ),
        (("model", "who"), ("reconcile.model", "reconcile.plans"), ("httpx", "click", "asyncio")),
        (
            ("health",),
            ("reconcile.health", "reconcile.model", "reconcile.audit.model"),
            ("httpx", "click", "asyncio", "sqlite3"),
        ),
    ],
    ids=[
        "sandbox",
        "planner",
        "plan",
        "model",
        "requests",
        "client",
        "render",
        "classify",
        "who-must-act",
        "health",
    ],
)
def test_boundaries(
    where: tuple[str, ...], allowed: tuple[str, ...], forbidden: tuple[str, ...]
) -> None:
    assert offenders(modules(*where), allowed, forbidden) == []


MAX_LINES = 400
# Modules over the limit, waiting to be split (none: cli/saved_plans.py's logic moved to runs/).
NOT_YET_SPLIT: frozenset[str] = frozenset()
ONE_HOME = ("Who", "Waiting")  # the one model of who must act: reconcile/model/who.py


def big_modules(
    package: Path, limit: int = MAX_LINES, exempt: frozenset[str] = frozenset()
) -> list[str]:
    return [
        f"{p.relative_to(package)}: {n} lines"
        for p in sorted(package.rglob("*.py"))
        if (n := len(p.read_text().splitlines())) > limit
        and str(p.relative_to(package)) not in exempt
    ]


def definitions(package: Path, names: tuple[str, ...]) -> list[str]:
    """Where each of `names` is defined: a class, or a module-level assignment (`Who = ...`)."""
    found = []
    for path in sorted(package.rglob("*.py")):
        for node in ast.parse(path.read_text(), str(path)).body:
            if isinstance(node, ast.ClassDef):
                defined = [node.name]
            elif isinstance(node, ast.Assign):
                defined = [t.id for t in node.targets if isinstance(t, ast.Name)]
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                defined = [node.target.id]
            else:
                continue
            found += [f"{path.relative_to(package)}: {n}" for n in defined if n in names]
    return found


def test_modules_stay_small() -> None:
    """Keep modules under about 400 lines: split by concern behind the same entry point."""
    assert big_modules(PACKAGE, exempt=NOT_YET_SPLIT) == []


def test_who_must_act_has_one_model() -> None:
    """`Who` and `Waiting` are defined once, in reconcile/model/who.py, and nowhere else."""
    assert definitions(PACKAGE, ONE_HOME) == ["model/who.py: Who", "model/who.py: Waiting"]


def test_the_rules_catch_what_they_guard(tmp_path: Path) -> None:
    """Controls: a second `Who` or `Waiting` and a long module are caught."""
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "who.py").write_text('Who = str\n\n\nclass Waiting:\n    """One."""\n')
    (tmp_path / "passes.py").write_text("Who: type = str\n\n\nclass Waiting:\n    pass\n")
    (tmp_path / "long.py").write_text("x = 1\n" * (MAX_LINES + 1))
    assert definitions(tmp_path, ONE_HOME) == [
        "model/who.py: Who",
        "model/who.py: Waiting",
        "passes.py: Who",
        "passes.py: Waiting",
    ]
    assert big_modules(tmp_path) == [f"long.py: {MAX_LINES + 1} lines"]


def sections(design: str) -> set[str]:
    """The numbers of a design page's `## N. Title` sections."""
    return set(re.findall(r"^## (\d+)\. ", design, re.MULTILINE))


def dangling_citations(roots: list[Path], known: set[str]) -> list[str]:
    """Each `docs/design.md §N` written under `roots` whose section N does not exist."""
    found = []
    for root in roots:
        for path in sorted(root.rglob("*.py")):
            for number in CITATION.findall(path.read_text()):
                if number not in known:
                    found.append(f"{path.name}: §{number}")
    return found


def test_the_design_the_docstrings_cite_is_in_the_repository(tmp_path: Path) -> None:
    known = sections(DESIGN.read_text())
    assert {"2", "4", "5", "8", "13"} <= known
    roots = [PACKAGE, ROOT / "tests", ROOT / "benchmarks"]
    assert dangling_citations(roots, known) == []
    # Control: a citation of a section the page lacks is caught.
    (tmp_path / "cites.py").write_text('"""See docs/design.md ' + '§99."""\n')
    assert dangling_citations([tmp_path], known) == ["cites.py: §99"]


# ---------------------------------------------------------------------- one reader of Codat

# Modules of the client a module may import anywhere: typed errors and the base-URL rules are
# leaf utilities; importing them reads nothing.
CLIENT_LEAVES = ("reconcile.codat.errors", "reconcile.codat.baseurl")
# Where Codat may be read or written through the client: facts/ reads, the executor writes,
# the watch registers its webhook consumer, runs/connect (and its credentials) builds the
# client. The client itself and the sandbox (which is Codat) are apart.
CLIENT_USERS = (
    "facts/",
    "executor/",
    "watch/registration.py",
    "runs/connect.py",
    "runs/credentials.py",
    "codat/",
    "sandbox/",
)


def runtime_imports(module: Path) -> set[str]:
    """The modules `module` imports when it runs (not those under `if TYPE_CHECKING:`)."""
    tree = ast.parse(module.read_text(), str(module))
    typing_only: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            typing_only.update(id(inner) for stmt in node.body for inner in ast.walk(stmt))
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "reconcile":
                found.update(f"reconcile.{alias.name}" for alias in node.names)
            else:
                found.add(node.module)
    return found


def client_reads() -> set[str]:
    """What the client reads with: the public coroutine methods of the client's classes
    (`CodatClient` and the mixins it is made of) that read (get_, list_, the raw requests and
    the account check). Writes need the client imported, which the import rule keeps out."""
    found: set[str] = set()
    for path in (PACKAGE / "codat").glob("*.py"):
        for cls in ast.parse(path.read_text()).body:
            if isinstance(cls, ast.ClassDef):
                found.update(
                    n.name
                    for n in cls.body
                    if isinstance(n, ast.AsyncFunctionDef) and not n.name.startswith("_")
                )
    raw = {"request", "request_json", "confirm_account"}
    return {name for name in found if name.startswith(("get_", "list_")) or name in raw}


def codat_readers(paths: list[Path]) -> list[str]:
    """Modules outside CLIENT_USERS that import the client at run time or call its methods."""
    methods = client_reads()
    bad = []
    for path in paths:
        where = path.relative_to(PACKAGE).as_posix()
        if where.startswith(CLIENT_USERS):
            continue
        for name in sorted(runtime_imports(path)):
            client = name == "reconcile.codat" or name.startswith("reconcile.codat.")
            if client and not name.startswith(CLIENT_LEAVES):
                bad.append(f"{where} imports {name}")
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in methods
            ):
                bad.append(f"{where}:{node.lineno} calls .{node.func.attr}()")
    return bad


def test_codat_is_read_in_facts_only() -> None:
    """Every read of Codat goes through reconcile/facts (DESIGN §2)."""
    assert client_reads() >= {"get_company", "list_companies", "get_expense_config", "request"}
    assert codat_readers(sorted(PACKAGE.rglob("*.py"))) == []


@contextlib.contextmanager
def written_as(module: Path, text: str) -> Iterator[None]:
    """While inside, `module` reads as `text` (nothing is written)."""
    real_read_text = Path.read_text

    def read_text(self: Path, *args: Any, **kwargs: Any) -> str:
        return text if self == module else real_read_text(self, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Path, "read_text", read_text)
        yield


def cli_offenders(paths: list[Path]) -> list[str]:
    return [
        f"{path.relative_to(PACKAGE)} imports {name}"
        for path in paths
        for name in sorted(imports(path))
        if name.startswith(("reconcile.codat", "reconcile.facts"))
    ]


def test_the_reader_rule_catches_a_read_outside_facts() -> None:
    """The control: a module that imports the client, or calls it, is named."""
    module = PACKAGE / "planner" / "__init__.py"  # a real path outside facts/
    text = (
        "from reconcile.codat import CodatClient\n"
        "from reconcile.codat.errors import CodatError\n"
        "async def read(client):\n"
        "    return await client.get_company('c')\n"
    )
    with written_as(module, text):
        found = codat_readers([module])
    assert found == [
        "planner/__init__.py imports reconcile.codat",
        "planner/__init__.py:4 calls .get_company()",
    ]


def test_the_command_line_holds_no_client_and_reads_no_facts() -> None:
    """cli/ parses, calls a run, renders and exits: it imports neither the client nor facts/,
    not even for a type."""
    assert cli_offenders(modules("cli")) == []
    module = PACKAGE / "cli" / "plan_cmd.py"  # the control
    text = (
        "if TYPE_CHECKING:\n    from reconcile.codat import CodatClient\nimport reconcile.facts\n"
    )
    with written_as(module, text):
        found = cli_offenders([module])
    assert found == [
        "cli/plan_cmd.py imports reconcile.codat",
        "cli/plan_cmd.py imports reconcile.facts",
    ]


def test_runs_print_nothing() -> None:
    """runs/ returns data: no click, no print (the command line renders)."""
    bad = [
        f"{path.relative_to(PACKAGE)}"
        for path in modules("runs")
        if "click" in imports(path) or "print(" in path.read_text()
    ]
    assert bad == []
