"""The sandbox's subpackages import one way: the state (`store/`) and the webhooks know nothing
of the routes, the layers or the command line; the routes and the layers know nothing of each
other. Control: the walker finds the imports the layers do make."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_architecture import imports

SANDBOX = Path(__file__).resolve().parents[2] / "reconcile" / "sandbox"
FORBIDDEN = {
    "store": ("api", "layers", "cli", "seed", "link", "app"),
    "webhooks": ("api", "layers", "cli", "seed", "link", "app"),
    "api": ("layers", "cli", "seed", "link", "app"),
    "layers": ("api", "cli", "seed", "link", "app"),
    "seed": ("api", "layers", "cli", "link", "app"),
}


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_subpackages_import_one_way(package: str) -> None:
    banned = tuple(f"reconcile.sandbox.{name}" for name in FORBIDDEN[package])
    bad = [
        f"{path.relative_to(SANDBOX)} imports {name}"
        for path in sorted((SANDBOX / package).rglob("*.py"))
        for name in imports(path)
        if name in banned or name.startswith(tuple(b + "." for b in banned))
    ]
    assert bad == []


def test_control_the_walker_sees_the_layers_imports() -> None:
    found = imports(SANDBOX / "layers" / "ratelimit.py")
    assert "reconcile.sandbox.store.store" in found
    assert "reconcile.sandbox.webhooks.store" in found
