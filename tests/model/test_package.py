"""`reconcile.model` re-exports its modules' names, each imported on first use."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

import reconcile.model
from reconcile.model import _HOMES


def type_checking_exports() -> dict[str, str]:
    """The names the package's TYPE_CHECKING block re-exports (what mypy sees), by module."""
    tree = ast.parse(Path(reconcile.model.__file__).read_text())
    found: dict[str, str] = {}
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.ImportFrom)
            and node.module
            and node.module.startswith("reconcile.model.")
        ):
            for alias in node.names:
                assert alias.asname == alias.name  # an explicit re-export
                found[alias.name] = node.module.rsplit(".", 1)[1]
    return found


def test_the_lazy_names_are_those_mypy_sees() -> None:
    assert type_checking_exports() == _HOMES


@pytest.mark.parametrize("name", sorted(_HOMES))
def test_each_name_is_its_modules_own(name: str) -> None:
    module = importlib.import_module(f"reconcile.model.{_HOMES[name]}")
    assert getattr(reconcile.model, name) is getattr(module, name)


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_name"):
        _ = reconcile.model.no_such_name  # type: ignore[attr-defined]


def test_the_live_model_does_not_import_the_desired_one() -> None:
    """What the client needs (the live model, the expense config) loads without the desired
    model's classes; the control: asking for a desired name loads them."""
    probe = (
        "import sys\n"
        "from reconcile.model import Company, ExpenseConfig, UID_TAG\n"
        "print('reconcile.model.desired' in sys.modules)\n"
        "from reconcile.model import Customer\n"
        "print('reconcile.model.desired' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.split() == ["False", "True"]
