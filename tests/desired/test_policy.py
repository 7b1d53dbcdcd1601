"""`policy:` in the desired-state file: the default, an explicit list, and the round trip."""

from __future__ import annotations

from pathlib import Path

from reconcile.desired import dump, load
from reconcile.model import DEFAULT_AUTO, Policy

BASE = "version: 1\nowner: expenses-prod\n{policy}customers:\n  - uid: cus-1\n    name: Acme\n"


def _load(tmp_path: Path, policy: str) -> Policy:
    path = tmp_path / "customers.yaml"
    path.write_text(BASE.format(policy=policy), encoding="utf-8")
    return load([path]).policy


def test_default_policy_is_the_two_deferred_follow_ups(tmp_path: Path) -> None:
    policy = _load(tmp_path, "")
    assert policy.auto == DEFAULT_AUTO == {"partner_expense_connection", "expense_config"}
    assert policy.prune is False


def test_explicit_policy_replaces_the_default(tmp_path: Path) -> None:
    policy = _load(tmp_path, "policy:\n  auto: [expense_config, company_restore]\n")
    assert policy.auto == {"expense_config", "company_restore"}
    assert _load(tmp_path, "policy:\n  auto: []\n").auto == frozenset()
    assert _load(tmp_path, "policy: {}\n").auto == DEFAULT_AUTO


def test_policy_survives_dump_and_load(tmp_path: Path) -> None:
    path = tmp_path / "customers.yaml"
    path.write_text(
        BASE.format(policy="policy:\n  auto: [accounting_connection_recreate]\n"), encoding="utf-8"
    )
    state = load([path])
    again = tmp_path / "again.yaml"
    again.write_text(dump(state), encoding="utf-8")
    assert load([again]).policy == state.policy
    assert "policy:" not in dump(load([tmp_path / "again.yaml"]).__class__(owner="o", customers=()))


def test_the_same_policy_in_two_files_is_fine(tmp_path: Path) -> None:
    policy = "policy:\n  auto: [expense_config]\n"
    (tmp_path / "a.yaml").write_text(BASE.format(policy=policy), encoding="utf-8")
    (tmp_path / "b.yaml").write_text(
        BASE.format(policy=policy).replace("cus-1", "cus-2"), encoding="utf-8"
    )
    assert load([tmp_path]).policy.auto == {"expense_config"}


def test_refresh_data_every_is_a_period_and_round_trips(tmp_path: Path) -> None:
    from datetime import timedelta

    assert _load(tmp_path, "").refresh_data_every == timedelta(days=1)
    policy = _load(tmp_path, "policy:\n  auto: [refresh_data]\n  refreshDataEvery: 1d12h\n")
    assert policy.refresh_data_every == timedelta(days=1, hours=12)
    path = tmp_path / "customers.yaml"
    again = tmp_path / "again.yaml"
    again.write_text(dump(load([path])), encoding="utf-8")
    assert "refreshDataEvery: 1d12h" in again.read_text()
    assert load([again]).policy == policy


def test_a_bad_refresh_period_is_refused_with_where_and_what_to_write(tmp_path: Path) -> None:
    from tests.support.cli import reconcile

    for bad in ("0d", "soon", "1.5d", "90m"):
        path = tmp_path / "customers.yaml"
        path.write_text(BASE.format(policy=f"policy:\n  refreshDataEvery: {bad}\n"))
        result = reconcile("validate", str(path))
        assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
        assert f"customers.yaml:4:21: policy refreshDataEvery '{bad}' is not a period" in (
            result.stderr
        ), result.stderr
        assert "e.g. 1d, 12h or 2w" in result.stderr
    path.write_text(BASE.format(policy="policy:\n  refreshDataEvery: 12\n"))
    result = reconcile("validate", str(path))
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert "refreshDataEvery must be a period with its unit, got a number" in result.stderr
    assert "quote it" not in result.stderr  # quoting 12 would not make it a period
