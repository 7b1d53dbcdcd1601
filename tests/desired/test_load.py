"""Loading good input: the model it gives, paths and directories, limits, the schema."""

from __future__ import annotations

import json
import os
import tracemalloc
from pathlib import Path

import jsonschema
import pytest

from reconcile.desired import InvalidInput, Problem, document, load, schema_text
from reconcile.model import PLATFORM_ALIASES, Customer, ExpenseConfig, Location

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))


def problems_of(paths: list[str | Path]) -> list[str]:
    with pytest.raises(InvalidInput) as caught:
        load(paths)
    return [str(p) for p in caught.value.problems]


def problems_and_peak(path: Path) -> tuple[list[str], int]:
    """`problems_of([path])` and the most memory (bytes) Python held while finding them."""
    tracemalloc.start()
    try:
        found = problems_of([path])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return found, peak


# ------------------------------------------------------------------------- good input


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_examples_validate(path: Path) -> None:
    state = load([path])
    assert state.owner
    assert state.customers


def test_examples_exist() -> None:
    assert EXAMPLES, "examples/*.yaml is the README's example; it must validate"


def test_full_fixture_builds_the_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(HERE)
    state = load(["good/full.yaml"])
    assert state.owner == "expenses-prod"
    assert state.files == ("good/full.yaml",)
    first, second, third, fourth = state.customers
    assert first == Customer(
        uid="cus-0001",
        name="Sawayn Group",
        description="Pilot customer: café & co",
        tags={"team": "emea", "plan": "enterprise", "region": "uk"},  # defaults merged, ours win
        accounting="qhyg",  # alias resolved to the key
        expenses=True,  # from defaults
        expense_config=ExpenseConfig("89", "124", "140"),
        id="77921ff9-3ec0-4a5b-9a55-0b5f4e1d2c3a",  # normalised to lowercase
        protect=True,
        state="present",
    )
    assert first.location == Location("good/full.yaml", 11, 5)
    # null overrides a default; an alias shares the anchored mapping
    assert second.accounting is None
    assert second.description is None
    assert second.expenses is False
    assert second.tags == first.tags
    assert second.name == "O'Brien, Smith & Sons @ Leeds. Really?!"
    # flow style; defaults fill everything not given
    assert third.uid == "cus.0003_x"
    assert third.accounting == "gbol"
    assert third.description == "Onboarded by reconcile"
    assert third.state == "absent"
    assert third.location == Location("good/full.yaml", 29, 6)
    # quoted strings that YAML would otherwise read as other types
    assert fourth.uid == "0042"
    assert fourth.tags["on"] == "yes"
    assert fourth.tags["year"] == "2024"
    assert fourth.state == "deleted"


def test_minimal_file_has_no_customers() -> None:
    state = load([HERE / "good" / "minimal.yaml"])
    assert state.customers == ()
    assert state.owner == "expenses-prod"


def test_directory_is_the_sorted_union_of_its_yaml_files(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(HERE)
    state = load(["good/dir"])
    assert state.files == ("good/dir/a.yaml", "good/dir/b.yml")  # README.md is not read
    assert [c.uid for c in state.customers] == ["a-1", "b-1"]
    assert state.customers[1].location == Location("good/dir/b.yml", 4, 5)


def test_the_same_file_twice_is_read_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(HERE)
    state = load(["good/dir", "good/dir/a.yaml", "./good/dir/a.yaml"])
    assert state.files == ("good/dir/a.yaml", "good/dir/b.yml")


def test_relative_paths_stay_relative(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(HERE)
    assert problems_of(["./bad/empty.yaml"])[0].startswith("./bad/empty.yaml:1:1: ")


# ------------------------------------------------------------------------- paths and limits


def test_missing_path_and_empty_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("x")
    assert problems_of(["nope.yaml", "empty"]) == [
        "empty:1:1: directory has no *.yaml or *.yml files (not recursive)",
        "nope.yaml:1:1: no such file or directory",
    ]


def test_no_paths_at_all() -> None:
    assert problems_of([]) == [".:1:1: no desired-state file or directory given"]


def test_file_over_the_size_limit_is_refused_unread(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    with big.open("wb") as handle:  # sparse: the size is there, the bytes are not
        handle.truncate(document.MAX_FILE_BYTES + 1)
    found, peak = problems_and_peak(big)
    assert found == [
        f"{big}:1:1: file is 20.0 MB; the limit is 20 MB (split the customers across several"
        " files in a directory)"
    ]
    assert peak < 1_000_000


def test_billion_laughs_fails_fast_in_bounded_memory() -> None:
    path = HERE / "bad" / "billion-laughs.yaml"
    found, peak = problems_and_peak(path)
    assert len(found) == 1
    assert "aliases expand this document to 23,456,790,137 nodes" in found[0]
    assert peak < 5_000_000  # never expanded: bounded memory means bounded time


def test_wide_alias_fan_out_is_bounded(tmp_path: Path) -> None:
    # One modest mapping aliased many times: under the cap it loads, shared, not copied.
    lines = ["version: 1", "owner: o", "customers:"]
    lines.append("  - {uid: c0, name: N, tags: &t {a: '1', b: '2'}}")
    lines += [f"  - {{uid: c{i}, name: N, tags: *t}}" for i in range(1, 2000)]
    path = tmp_path / "fan.yaml"
    path.write_text("\n".join(lines) + "\n")
    state = load([path])
    assert len(state.customers) == 2000
    assert state.customers[1999].tags == {"a": "1", "b": "2"}


def test_deep_yaml_nesting_is_refused_not_crashing(tmp_path: Path) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text("version: 1\nowner: o\ncustomers: " + "[" * 5000 + "]" * 5000 + "\n")
    found = problems_of([path])
    assert len(found) == 1
    assert "exceeded maximum nesting depth" in found[0]


def test_utf8_bom_and_crlf_are_accepted(tmp_path: Path) -> None:
    path = tmp_path / "win.yaml"
    text = "version: 1\r\nowner: o\r\ncustomers:\r\n  - uid: c1\r\n    name: N\r\n"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    state = load([path])
    assert state.customers[0].location == Location(str(path), 4, 5)


def test_non_utf8_position_counts_characters(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(
        b"version: 1\nowner: o\ncustomers:\n  - uid: c1\n    name: "
        + "Zoë ".encode()
        + b"M\xfcller\n"
    )
    assert problems_of([path]) == [
        f"{path}:5:16: file is not UTF-8: byte 0xfc is invalid here; save the file as UTF-8"
    ]


def test_problem_str_and_order() -> None:
    problems = [Problem("b", 1, 1, "x"), Problem("a", 2, 1, "y"), Problem("a", 1, 9, "z")]
    error = InvalidInput(problems)
    assert [str(p) for p in error.problems] == ["a:1:9: z", "a:2:1: y", "b:1:1: x"]
    assert str(error).splitlines()[0] == "3 problems in the desired state:"


# ------------------------------------------------------------------------- the schema


def test_schema_text_is_a_valid_draft_2020_12_schema() -> None:
    schema = json.loads(schema_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"]
    customer = schema["$defs"]["customer"]
    for name, prop in customer["properties"].items():
        assert prop.get("description"), name
        assert prop.get("title"), name


def test_schema_is_the_repository_file() -> None:
    assert schema_text() == (ROOT / "schemas" / "customers.schema.json").read_text()


def test_schema_platforms_match_the_registry() -> None:
    schema = json.loads(schema_text())
    enum = schema["$defs"]["customer"]["properties"]["accounting"]["else"]["enum"]
    assert set(enum) == {*PLATFORM_ALIASES, None}
    assert schema["properties"]["defaults"]["properties"]["accounting"]["else"]["enum"] == enum


def test_examples_and_fixtures_pass_plain_jsonschema() -> None:
    """yaml-language-server sees what jsonschema sees: the good files satisfy the schema alone."""
    import yaml

    validator = jsonschema.Draft202012Validator(json.loads(schema_text()))
    for path in [*EXAMPLES, HERE / "good" / "minimal.yaml", HERE / "good" / "dir" / "a.yaml"]:
        data = yaml.safe_load(path.read_text())
        assert list(validator.iter_errors(data)) == [], path


@pytest.mark.slow
def test_loading_10000_customers(tmp_path: Path) -> None:
    """Correctness at scale; the speed is measured by benchmarks/bench_validate.py, not here."""
    from benchmarks.bench_validate import generate

    path = tmp_path / "customers.yaml"
    path.write_text(generate(10_000))
    state = load([path])
    assert len(state.customers) == 10_000
    assert len({c.uid for c in state.customers}) == 10_000


def test_chdir_is_not_needed_for_absolute_paths() -> None:
    state = load([os.path.abspath(HERE / "good" / "minimal.yaml")])
    assert state.files[0].startswith("/")


def test_the_documented_example_validates(tmp_path: Path) -> None:
    doc = (ROOT / "README.md").read_text(encoding="utf-8")
    section = doc.split("## The desired-state file", 1)[1]
    example = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "example.yaml"
    path.write_text(example, encoding="utf-8")
    state = load([path])
    assert [c.uid for c in state.customers] == ["cus-0001", "cus-0002", "cus-0003"]
    first, second, third = state.customers
    assert first.tags == {"team": "emea", "region": "uk"}
    assert second.accounting is None
    assert third.accounting == "gbol"
    assert third.description == "Onboarded by reconcile"


def _write(tmp: Path, text: str) -> Path:
    path = tmp / "c.yaml"
    path.write_text("version: 1\nowner: o\n" + text, encoding="utf-8")
    return path


def test_defaults_are_overridden_per_key(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "defaults: {protect: true, accounting: xero}\ncustomers:\n"
        "  - {uid: a, name: A, protect: false, state: deleted}\n"
        "  - {uid: b, name: B, accounting: qbo, expenseConfig: {bankAccount: '1', supplier: '2',"
        " customer: '3'}}\n",
    )
    a, b = load([path]).customers
    assert (a.protect, a.state, a.accounting) == (False, "deleted", "gbol")
    assert (b.protect, b.accounting) == (True, "qhyg")


def test_expense_config_needs_accounting_after_an_explicit_null(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "defaults: {accounting: xero}\ncustomers:\n  - uid: a\n    name: A\n    accounting: null\n"
        "    expenseConfig: {bankAccount: '1', supplier: '2', customer: '3'}\n",
    )
    assert problems_of([path]) == [
        f"{path}:8:5: expenseConfig needs an accounting platform: set 'accounting' on this"
        " customer or in defaults"
    ]


def test_default_tags_alone_may_use_the_whole_budget(tmp_path: Path) -> None:
    tags = ", ".join(f"t{i}: v" for i in range(8))
    path = _write(
        tmp_path,
        f"defaults: {{tags: {{{tags}}}}}\ncustomers:\n  - {{uid: a, name: A}}\n"
        "  - {uid: b, name: B, tags: {t0: w}}\n",
    )
    a, b = load([path]).customers
    assert len(a.tags) == len(b.tags) == 8
    assert b.tags["t0"] == "w"


# ------------------------------------------------------------------------- hostile strings

HOSTILE = [
    "Acme Ltd\n\nNo changes. Codat matches the file.",
    "\x1b]52;c;aGk=\x07",
    "a\rb",
    "csi \x9b2J",
    "del \x7f",
    "nul \x00",
]


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize("field", ["name", "description", "tagvalue", "tagkey", "bankAccount"])
def test_control_characters_are_refused_in_every_string(
    tmp_path: Path, field: str, value: str
) -> None:
    customer: dict[str, object] = {"uid": "c1", "name": "Acme Ltd", "accounting": "xero"}
    if field == "tagvalue":
        customer["tags"] = {"k": value}
    elif field == "tagkey":
        customer["tags"] = {value[:27]: "v"}
    elif field == "bankAccount":
        customer["expenseConfig"] = {"bankAccount": value, "supplier": "1", "customer": "2"}
    else:
        customer[field] = value
    doc = {"version": 1, "owner": "o", "customers": [customer]}
    path = tmp_path / "f.yaml"
    path.write_text(json.dumps(doc), encoding="utf-8")  # JSON is YAML: escapes reach the reader
    [problem] = problems_of([path])
    assert "no string in the file may hold control characters" in problem
    assert problem.startswith(f"{path}:1:")
    assert problem.isprintable()


def test_hostile_keys_are_printed_escaped(tmp_path: Path) -> None:
    path = tmp_path / "f.yaml"
    path.write_text(
        'version: 1\nowner: o\ncustomers:\n  - uid: a\n    name: A\n    "x\\e]52;c;aGk=\\a": 1\n'
    )
    [problem] = problems_of([path])
    assert problem.isprintable()
    assert "unknown key 'x\\x1b]52;c;aGk=\\x07' in customer" in problem


def test_customers_with_the_same_tags_share_one_map(tmp_path: Path) -> None:
    """100,000 customers carry a few hundred distinct tag maps: one each is shared (in the order
    written: another order is another map), merged with defaults or not."""
    path = _write(
        tmp_path,
        "defaults: {tags: {plan: growth}}\ncustomers:\n"
        "  - {uid: a, name: A, tags: {region: fr, team: emea}}\n"
        "  - {uid: b, name: B, tags: {region: fr, team: emea}}\n"
        "  - {uid: c, name: C, tags: {team: emea, region: fr}}\n"
        "  - {uid: d, name: D, tags: {region: us}}\n"
        "  - {uid: e, name: E}\n"
        "  - {uid: f, name: F}\n",
    )
    a, b, c, d, e, f = load([path]).customers
    assert a.tags == {"plan": "growth", "region": "fr", "team": "emea"}
    assert a.tags is b.tags
    assert c.tags == a.tags and c.tags is not a.tags
    assert list(c.tags) == ["plan", "team", "region"]
    assert d.tags == {"plan": "growth", "region": "us"} and d.tags is not a.tags
    assert e.tags == f.tags == {"plan": "growth"} and e.tags is f.tags
