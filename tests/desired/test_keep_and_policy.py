"""`accounting: {keep: true}` and `policy: {prune: ...}`: read into the model, bad forms named
at file:line:col (issue 15)."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconcile.desired import InvalidInput, load
from reconcile.desired.dump import dump
from reconcile.model import Policy


def _write(tmp_path: Path, body: str, name: str = "customers.yaml") -> Path:
    path = tmp_path / name
    path.write_text("version: 1\nowner: o\n" + body)
    return path


def _problems(*paths: Path) -> list[str]:
    with pytest.raises(InvalidInput) as caught:
        load([str(p) for p in paths])
    return [str(p) for p in caught.value.problems]


def test_keep_and_prune_are_read(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "policy: {prune: true}\ncustomers:\n"
        "  - {uid: a, name: A, accounting: {keep: true}, expenses: true}\n"
        "  - {uid: b, name: B, accounting: xero}\n",
    )
    state = load([str(path)])
    a, b = state.customers
    assert a.keep_accounting and a.accounting is None and a.expenses
    assert not b.keep_accounting and b.accounting == "gbol"
    assert state.policy == Policy(prune=True)


def test_without_policy_nothing_is_pruned(tmp_path: Path) -> None:
    path = _write(tmp_path, "customers:\n  - {uid: a, name: A}\n")
    assert load([str(path)]).policy.prune is False


def test_bad_keep_forms_are_named_where_written(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "customers:\n"
        "  - {uid: a, name: A, accounting: {keep: false}}\n"
        "  - {uid: b, name: B, accounting: {kep: true}}\n",
    )
    found = _problems(path)
    assert any(p.startswith(f"{path}:4:") and "keep must be true" in p for p in found), found
    assert any(p.startswith(f"{path}:5:") and "did you mean 'keep'" in p for p in found), found


def test_policies_of_two_files_must_agree(tmp_path: Path) -> None:
    first = _write(tmp_path, "policy: {prune: true}\ncustomers: []\n", "a.yaml")
    second = _write(tmp_path, "policy: {prune: false}\ncustomers: []\n", "b.yaml")
    (problem,) = _problems(first, second)
    assert problem.startswith(f"{second}:3:") and f"{first}:3:" in problem, problem


def test_keep_survives_a_dump(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "policy: {prune: true}\ncustomers:\n  - {uid: a, name: A, accounting: {keep: true}}\n",
    )
    state = load([str(path)])
    again = tmp_path / "again.yaml"
    again.write_text(dump(state))
    read = load([str(again)])
    assert (read.customers, read.policy) == (state.customers, state.policy)
