"""`plan --base`: a pull request's plan check blocks on the refusals it causes, not on older
ones, and its comment says which is which and what allowances are in effect. Run as CI runs it:
`python -m reconcile` against the served sandbox."""

from __future__ import annotations

from pathlib import Path

from reconcile.cli.review import changed_uids
from reconcile.desired import load
from reconcile.escape import markdown
from tests.plans.file.saved_support import ok, reconcile, refused, unique_owner


def _file(directory: Path, owner: str, *entries: str, defaults: str = "") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "customers.yaml"
    body = "".join(f"  - uid: {owner}-{entry}\n" for entry in entries)
    body = body.replace(";", "\n    ")
    path.write_text(f"version: 1\nowner: {owner}\n{defaults}customers:\n{body}")
    return path


def test_changed_uids_compares_resolved_entries(tmp_path: Path) -> None:
    owner = "o"
    base = load([_file(tmp_path / "b", owner, "a;name: A", "b;name: B", "c;name: C")])
    head = load([_file(tmp_path / "h", owner, "a;name: A", "b;name: B2", "d;name: D")])
    assert changed_uids(base, head) == {"o-b", "o-c", "o-d"}
    assert changed_uids(None, head) == {"o-a", "o-b", "o-d"}
    moved = load([_file(tmp_path / "m", owner, "b;name: B", "a;name: A", "c;name: C")])
    assert changed_uids(base, moved) == frozenset()  # order and line numbers do not count
    defaults = "defaults:\n  expenses: true\n"
    everywhere = load([_file(tmp_path / "d", owner, "a;name: A", "b;name: B", defaults=defaults)])
    assert changed_uids(base, everywhere) == {"o-a", "o-b", "o-c"}
    other = load([_file(tmp_path / "x", "p", "a;name: A")])
    assert changed_uids(base, other) == {"o-a", "o-b", "o-c", "p-a"}


def test_only_the_pull_requests_own_refusals_block_it(tmp_path: Path, sandbox_url: str) -> None:
    owner = unique_owner("base")
    live = _file(tmp_path / "live", owner, "a;name: Alpha", "b;name: Beta")
    ok(reconcile("apply", str(live), "--auto-approve", url=sandbox_url))
    # On the default branch, Alpha already asks for a delete nobody allowed: refused there too.
    base = _file(tmp_path / "base", owner, "a;name: Alpha;state: deleted", "b;name: Beta")

    touched = _file(
        tmp_path / "pr1", owner, "a;name: Alpha;state: deleted", "b;name: Beta;state: deleted"
    )
    args = ("plan", str(touched), "--base", str(base), "--format", "markdown")
    result = reconcile(*args, url=sandbox_url)
    stderr = refused(result)
    assert "1 refusal about customers this change touches, 1 that predates it" in stderr
    assert "get a reviewed allowance" in stderr
    comment = result.stdout
    assert f"- **new: blocks this pull request** · **{markdown(owner + '-b')}**" in comment
    assert f"- pre-existing · **{markdown(owner + '-a')}**" in comment
    assert "**Allowances in effect: none.**" in comment

    untouched = _file(tmp_path / "pr2", owner, "a;name: Alpha;state: deleted", "b;name: Beta Ltd")
    result = ok(reconcile("plan", str(untouched), "--base", str(base), url=sandbox_url))
    assert "0 refusals about customers this change touches, 1 that predates it" in result.stderr
    assert "state: deleted needs --allow-delete" in result.stdout  # shown all the same

    allowed = reconcile(*args, "--allow-delete", url=sandbox_url)
    comment = ok(allowed).stdout
    assert "**Allowances in effect:**\n\n- \\-\\-allow\\-delete: companies marked" in comment
    assert comment.count("deletes company") == 2 and ":no_entry: Refused" not in comment


def test_without_base_files_every_refusal_is_new(tmp_path: Path, sandbox_url: str) -> None:
    owner = unique_owner("base")
    live = _file(tmp_path / "live", owner, "a;name: Alpha")
    ok(reconcile("apply", str(live), "--auto-approve", url=sandbox_url))
    head = _file(tmp_path / "pr", owner, "a;name: Alpha;state: deleted")
    missing = tmp_path / "main" / "customers"  # the first pull request: nothing on main yet
    stderr = refused(reconcile("plan", str(head), "--base", str(missing), url=sandbox_url))
    assert "1 refusal about customers this change touches, 0 that predate it" in stderr


def test_base_files_that_do_not_load_count_every_customer_as_changed(
    tmp_path: Path, sandbox_url: str
) -> None:
    """The pull request may be the fix of a broken default branch: it is planned, not refused."""
    owner = unique_owner("base")
    live = _file(tmp_path / "live", owner, "a;name: Alpha")
    ok(reconcile("apply", str(live), "--auto-approve", url=sandbox_url))
    broken = _file(tmp_path / "main", owner, "a;nmae: Alpha")
    head = _file(tmp_path / "pr", owner, "a;name: Alpha;state: deleted")
    stderr = refused(reconcile("plan", str(head), "--base", str(broken), url=sandbox_url))
    assert "--base: the base files do not load (2 problems, first: " in stderr
    assert "main/customers.yaml:4:5: customer is missing required key" in stderr
    assert "1 refusal about customers this change touches, 0 that predate it" in stderr
    fixed = _file(tmp_path / "pr2", owner, "a;name: Alpha")
    ok(reconcile("plan", str(fixed), "--base", str(broken), url=sandbox_url))
