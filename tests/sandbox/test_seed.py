"""The seed command: a realistic, deterministic population, fast."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from reconcile.sandbox.registry import OWNER_TAG, UID_TAG
from reconcile.sandbox.seed import seed_command, seed_population
from reconcile.sandbox.store import Store


def _snapshot(db: Path) -> list[tuple[Any, ...]]:
    """Everything but the generated ids and timestamps, in creation order."""
    store = Store(db)
    try:
        companies, _ = store.list_companies(page_size=5000)
        return [
            (
                c["name"],
                c.get("description"),
                tuple(sorted(c["tags"].items())),
                tuple((d["integrationKey"], d["status"]) for d in c["dataConnections"]),
            )
            for c in companies
        ]
    finally:
        store.close()


def test_same_seed_same_population(tmp_path: Path) -> None:
    seed_population(tmp_path / "a.db", 300, "team-a", seed=42)
    seed_population(tmp_path / "b.db", 300, "team-a", seed=42)
    seed_population(tmp_path / "c.db", 300, "team-a", seed=43)
    assert _snapshot(tmp_path / "a.db") == _snapshot(tmp_path / "b.db")
    assert _snapshot(tmp_path / "a.db") != _snapshot(tmp_path / "c.db")


def test_population_is_realistic(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    counts = seed_population(db, 1000, ("team-a", "team-b"), seed=1)
    snapshot = _snapshot(db)
    assert len(snapshot) == counts["companies"] == 1000
    owners = Counter(dict(tags).get(OWNER_TAG) for _, _, tags, _ in snapshot)
    assert owners["team-a"] > 300 and owners["team-b"] > 300
    assert owners[None] > 100  # unmanaged
    assert any(o and o.startswith("other-team-") for o in owners)  # other owners
    statuses = Counter(status for *_, conns in snapshot for _, status in conns)
    assert set(statuses) == {"PendingAuth", "Linked", "Unlinked", "Deauthorized"}
    platforms = {key for *_, conns in snapshot for key, _ in conns}
    assert platforms >= {"qhyg", "gbol", "akxx", "knfz", "trji", "pqsw", "fbrh", "rwuv", "expn"}
    uids = [
        dict(tags)[UID_TAG]
        for _, _, tags, _ in snapshot
        if dict(tags).get(OWNER_TAG) in ("team-a", "team-b")
    ]
    assert len(uids) == len(set(uids)) and uids[0] == "cus-00001"
    for _, _, tags, conns in snapshot:
        assert len(tags) <= 10
        active = [s for key, s in conns if key != "expn" and s in ("PendingAuth", "Linked")]
        assert len(active) <= 1  # Codat: one active accounting connection per company
        if any(key == "expn" for key, _ in conns):
            assert "Linked" in active


@pytest.mark.slow
def test_ten_thousand_companies(tmp_path: Path) -> None:
    """Correctness at scale; its speed is a benchmark's business (bench_sandbox_list.py)."""
    counts = seed_population(tmp_path / "big.db", 10_000, "team-a", seed=7)
    assert counts["companies"] == 10_000
    store = Store(tmp_path / "big.db")
    try:
        assert store.count_companies() == 10_000
    finally:
        store.close()


def test_seeding_twice_never_reuses_a_uid(tmp_path: Path) -> None:
    db = tmp_path / "twice.db"
    seed_population(db, 300, "team-a", seed=1)
    seed_population(db, 300, "team-a", seed=1)
    store = Store(db)
    try:
        companies, _ = store.list_companies(page_size=5000)
        uids = [c["tags"][UID_TAG] for c in companies if UID_TAG in c["tags"]]
    finally:
        store.close()
    assert len(uids) > 300
    assert len(uids) == len(set(uids))


def test_seed_command(tmp_path: Path) -> None:
    db = tmp_path / "cli.db"
    result = CliRunner().invoke(
        seed_command,
        ["--db", str(db), "--companies", "50", "--owner", "ops", "--owner", "fin", "--seed", "3"],
    )
    assert result.exit_code == 0, result.output
    assert "50 companies" in result.output
    store = Store(db)
    try:
        assert len(store.find_companies_by_tag(OWNER_TAG, "ops")) > 10
        assert len(store.find_companies_by_tag(OWNER_TAG, "fin")) > 10
    finally:
        store.close()


def _errors(db: Path) -> list[tuple[Any, ...]]:
    """Every connection error as (company name, platform, connection status, code, message,
    error status, resolved?), in creation order."""
    store = Store(db)
    try:
        companies, _ = store.list_companies(page_size=5000)
        return [
            (
                c["name"],
                d["integrationKey"],
                d["status"],
                e.get("statusCode"),
                e["errorMessage"],
                e["status"],
                "resolvedOnUtc" in e,
            )
            for c in companies
            for d in c["dataConnections"]
            for e in d.get("dataConnectionErrors", ())
        ]
    finally:
        store.close()


def test_connection_errors_are_optional_seeded_and_leave_the_rest_alone(tmp_path: Path) -> None:
    from tests.support.oas import load_spec

    plain = seed_population(tmp_path / "plain.db", 600, "team-a", seed=5)
    errored = seed_population(tmp_path / "e1.db", 600, "team-a", seed=5, connection_errors=0.3)
    seed_population(tmp_path / "e2.db", 600, "team-a", seed=5, connection_errors=0.3)
    assert _errors(tmp_path / "plain.db") == [] and "connection errors" not in plain
    assert _snapshot(tmp_path / "plain.db") == _snapshot(tmp_path / "e1.db")
    assert {k: v for k, v in errored.items() if k != "connection errors"} == dict(plain)
    errors = _errors(tmp_path / "e1.db")
    assert errors == _errors(tmp_path / "e2.db")
    assert len(errors) == errored["connection errors"]
    active = [e for e in errors if e[5] == "Active"]
    resolved = [e for e in errors if e[5] == "Resolved"]
    # Every history ends Linked, PendingAuth or Deauthorized: each company with an accounting
    # connection is eligible, once.
    eligible = sum(
        1 for *_, conns in _snapshot(tmp_path / "plain.db") if any(k != "expn" for k, _ in conns)
    )
    assert 0.15 * eligible < len(active) < 0.45 * eligible
    assert 0 < len(resolved) < len(active)
    assert all(e[6] for e in resolved) and not any(e[6] for e in active)
    assert {e[2] for e in errors} <= {"Linked", "PendingAuth", "Deauthorized"}
    assert "expn" not in {e[1] for e in errors}
    validator = load_spec("platform").validator(
        "/components/schemas/Connection/definitions/dataConnectionError"
    )
    store = Store(tmp_path / "e1.db")
    try:
        for company in store.list_companies(page_size=5000)[0]:
            for connection in company["dataConnections"]:
                for entry in connection.get("dataConnectionErrors", ()):
                    assert not list(validator.iter_errors(entry)), entry
    finally:
        store.close()


def test_seed_command_connection_errors(tmp_path: Path) -> None:
    db = tmp_path / "cli.db"
    args = ["--db", str(db), "--companies", "200", "--seed", "3", "--connection-errors", "0.5"]
    result = CliRunner().invoke(seed_command, args)
    assert result.exit_code == 0, result.output
    assert "connection errors" in result.output and _errors(db)
    bad = CliRunner().invoke(seed_command, [*args[:-1], "1.5"])
    assert bad.exit_code == 2


def _configured(db: Path) -> tuple[int, int, int]:
    """(companies whose accounting connection is Linked, those of them with an expense config,
    companies with a config whose accounting is not Linked)."""
    store = Store(db)
    try:
        linked = configured = stray = 0
        for company in store.list_companies(page_size=5000)[0]:
            is_linked = any(
                d["sourceType"] == "Accounting" and d["status"] == "Linked"
                for d in company["dataConnections"]
            )
            has = store.get_expense_config(company["id"]) is not None
            linked += is_linked
            configured += is_linked and has
            stray += has and not is_linked
        return linked, configured, stray
    finally:
        store.close()


def test_expense_configs_on_every_linked_company_when_asked(tmp_path: Path) -> None:
    """`--expense-configs 1.0`: a fleet that syncs expenses, every Linked company configured;
    the default stays half of those with the partner expense connection (the control), and the
    rest of the population is the same either way."""
    every = seed_population(tmp_path / "every.db", 400, "team-a", seed=7, expense_configs=1.0)
    default = seed_population(tmp_path / "default.db", 400, "team-a", seed=7)
    linked, configured, stray = _configured(tmp_path / "every.db")
    assert linked > 100 and configured == linked == every["expense config"] and stray == 0
    linked, configured, stray = _configured(tmp_path / "default.db")
    assert 0 < configured == default["expense config"] < 0.7 * linked and stray == 0
    assert _snapshot(tmp_path / "every.db") == _snapshot(tmp_path / "default.db")
    result = CliRunner().invoke(
        seed_command,
        ["--db", str(tmp_path / "cli.db"), "--companies", "50", "--expense-configs", "1"],
    )
    assert result.exit_code == 0, result.output
    linked, configured, _ = _configured(tmp_path / "cli.db")
    assert f"{configured} expense config" in result.output and configured == linked
