"""`plan` builds the checked files' model while Codat prepares the owner's first page.

The files are checked first (bad input sends nothing), then the list request goes out and the
model is built meanwhile (`reconcile.runs.plan.built_while_listing`): the plan is the same, and
so is what the read costs.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from reconcile.desired import Checked, InvalidInput, check, load
from reconcile.planner import PlanOptions
from reconcile.runs.connect import Where
from reconcile.runs.loop import run
from reconcile.runs.plan import plan
from tests.support.hostile_server import (
    Reply,
    Seen,
    companies_route,
    company,
    page,
    serve_hostile,
)

FILE = "version: 1\nowner: o\ncustomers:\n  - uid: a\n    name: A\n  - uid: b\n    name: B\n"
WHERE = Where(sandbox=False, sandbox_db=None)


@pytest.fixture
def customers_file(tmp_path: Path) -> Path:
    path = tmp_path / "c.yaml"
    path.write_text(FILE, encoding="utf-8")
    return path


@contextmanager
def serving_one_company(listed: threading.Event, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Codat (through the environment) with one company, a; `listed` is set once the owner's
    companies are asked for."""

    def answer(seen: Seen) -> Reply:
        listed.set()
        return Reply(200, page([company(owner="o", uid="a", name="A")]))

    with serve_hostile(companies_route(answer)) as codat:
        monkeypatch.setenv("CODAT_BASE_URL", codat.url)
        monkeypatch.setenv("CODAT_API_KEY", "k")
        yield


def test_the_files_are_built_while_the_list_request_is_out(
    customers_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    listed = threading.Event()
    seen_at_build: list[bool] = []
    original = Checked.build

    def build(self: Checked) -> object:
        seen_at_build.append(listed.wait(timeout=30))  # returns at once when it was asked
        return original(self)

    monkeypatch.setattr(Checked, "build", build)
    with serving_one_company(listed, monkeypatch):
        made = run(plan(WHERE, check([customers_file]), PlanOptions()))
    assert seen_at_build == [True]
    assert made.desired == load([customers_file])
    assert made.live.requests == 3  # the list (asked before the build), the account, the uid lookup
    assert [c.uid for c in made.plan.changes if c.actions] == ["b"]  # b is to be created


def test_the_build_starts_once_the_list_request_is_written(
    customers_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The build's thread would hold up the request's connect and write (and the imports its
    first connection makes): it starts once the request is on the network
    (`reconcile.codat.outbox`)."""
    from reconcile.codat import CodatClient

    clients: list[CodatClient] = []
    at_build: list[tuple[int, int]] = []
    original_build, original_prepare = Checked.build, CodatClient.prepare

    def prepare(self: CodatClient) -> None:
        clients.append(self)
        original_prepare(self)

    def build(self: Checked) -> object:
        at_build.append((clients[0].outbox.begun, clients[0].outbox.unwritten))
        return original_build(self)

    monkeypatch.setattr(CodatClient, "prepare", prepare)
    monkeypatch.setattr(Checked, "build", build)
    with serving_one_company(threading.Event(), monkeypatch):
        run(plan(WHERE, check([customers_file]), PlanOptions()))
    assert at_build == [(1, 0)]  # the list request begun and written; nothing else yet


def test_control_a_built_state_is_built_before_anything_is_asked(
    customers_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    listed = threading.Event()
    with serving_one_company(listed, monkeypatch):
        desired = check([customers_file]).build()
        asked_before_build = listed.is_set()
        made = run(plan(WHERE, desired, PlanOptions()))
    assert not asked_before_build and listed.is_set()
    assert [c.uid for c in made.plan.changes if c.actions] == ["b"]
    assert made.live.requests == 3  # the list, the account and the uid lookup before a create


def test_checked_files_build_once_into_what_load_returns(customers_file: Path) -> None:
    checked = check([customers_file])
    assert (checked.owner, checked.customer_count, checked.files) == (
        "o",
        2,
        (str(customers_file),),
    )
    assert not checked.declares_environments
    assert checked.build() == load([customers_file])
    with pytest.raises(RuntimeError, match="built already"):
        checked.build()


def test_bad_files_are_refused_by_check_as_by_load(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("version: 1\nowner: o\ncustomers:\n  - name: A\n", encoding="utf-8")
    with pytest.raises(InvalidInput) as by_check:
        check([path])
    with pytest.raises(InvalidInput) as by_load:
        load([path])
    assert [str(p) for p in by_check.value.problems] == [str(p) for p in by_load.value.problems]


def test_a_target_neither_the_files_nor_codat_know_ends_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--target` is checked against both sides (a uid only Codat knows is a target too)."""
    from reconcile.runs.errors import RunError

    path = tmp_path / "c.yaml"
    path.write_text(FILE.replace("uid: a", "uid: x"), encoding="utf-8")
    with serving_one_company(threading.Event(), monkeypatch):
        for known in ("a", "b", "x"):  # Codat's, the file's, the file's
            run(plan(WHERE, check([path]), PlanOptions(targets=frozenset({known}))))
        with pytest.raises(RunError, match=r"unknown customer.*: nobody"):
            run(plan(WHERE, check([path]), PlanOptions(targets=frozenset({"a", "nobody"}))))


def test_the_transport_is_built_and_the_configs_foreseen_before_the_build_thread_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The build competes for the interpreter: the client's transport is built before it
    starts (its imports are not held up), the wire hears of the files' expense configs before
    it too, and while it runs it hands the interpreter to the loop every
    `BUILD_SWITCH_SECONDS` (the interval is put back after)."""
    import sys

    from reconcile.codat import CodatClient
    from reconcile.runs.plan import BUILD_SWITCH_SECONDS

    path = tmp_path / "c.yaml"
    config = (
        "    accounting: xero\n"
        "    expenseConfig: {bankAccount: '1', supplier: '2', customer: '3'}\n"
    )
    path.write_text(FILE.replace("    name: A\n", "    name: A\n" + config), encoding="utf-8")
    events: list[str] = []
    original_build, original_prepare = Checked.build, CodatClient.prepare

    def build(self: Checked) -> object:
        events.append(f"build, switching every {sys.getswitchinterval()} s")
        return original_build(self)

    def prepare(self: CodatClient) -> None:
        events.append("prepare")
        original_prepare(self)

    monkeypatch.setattr(Checked, "build", build)
    monkeypatch.setattr(CodatClient, "prepare", prepare)
    monkeypatch.setattr(CodatClient, "foresee", lambda self, n: events.append(f"foresee {n}"))
    before = sys.getswitchinterval()
    with serving_one_company(threading.Event(), monkeypatch):
        run(plan(WHERE, check([path]), PlanOptions()))
        assert events[:3] == [
            "prepare",
            "foresee 1",
            f"build, switching every {BUILD_SWITCH_SECONDS} s",
        ]
        assert sys.getswitchinterval() == before
        events.clear()  # the control: a --target plan foresees only once the model is built
        run(plan(WHERE, check([path]), PlanOptions(targets=frozenset({"a"}))))
    assert events[:2] == ["prepare", f"build, switching every {BUILD_SWITCH_SECONDS} s"]
    assert "foresee 1" in events[2:]
