"""The two readers mean the same thing, and the compiled schema check equals jsonschema.

The fast reader (yaml-rs, YAML 1.2) may only ever answer when the exact one (PyYAML, YAML 1.1)
would give the same model; these tests put scalars whose meaning differs between the two YAML
versions in every kind of field and compare the outcomes.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconcile.desired import InvalidInput, fastread, load, schema_text, yaml11, yamlload
from reconcile.desired.schema import is_valid
from tests.conftest import examples
from tests.desired.readers import fast_and_exact, never

# The property tests that write a file per example (a function-scoped tmp_path, on purpose).
MANY_FILES = settings(
    max_examples=examples(400),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

needs_fast = pytest.mark.skipif(not fastread.fast_available(), reason="yaml-rs not installed")

TRICKY = [
    "yes",
    "no",
    "on",
    "off",
    "y",
    "n",
    "Yes",
    "NO",
    "true",
    "False",
    "TRUE",
    "tRue",
    "null",
    "~",
    "Null",
    "",
    "012",
    "09",
    "0o17",
    "0x1F",
    "0b101",
    "1_000",
    "1:30",
    "+1",
    "-0",
    "1e3",
    "1.5",
    ".5",
    "1.",
    ".inf",
    "-.Inf",
    ".nan",
    "2024-01-01",
    "2001-12-14t21:59:43.10-05:00",
    "=",
    "<<",
    "1",
    "0",
    "89",
    "abc",
    "a b",
    "@x",
    "'q'",
    '"89"',
    '"yes"',
    "'on'",
    '"\\x41\\/"',
    "[a, 1]",
    "{}",
    "[]",
    "- a",
    "a: b",
    "# c",
    "x # c",
    "!!str 5",
    "&a x",
    "*a",
    "? x",
    "|",
    # control characters and other whitespace, through escapes both readers decode
    '"a\\nb"',
    '"Acme Ltd\\n\\nNo changes. Codat matches the file."',
    '"\\e]52;c;aGk=\\a"',
    '"\\x1b]52;c;aGk=\\x07"',
    '"a\\tb"',
    '"a\\rb"',
    '"a\\_b"',
    '"a\\Lb"',
    '"a\\Pb"',
    '"\\x85"',
    '"\\x7f"',
    '"\\x9b2J"',
    '"\\0"',
    '"\\u2028"',
    '"a\\/b"',
    '"A B\\n"',
]
TEMPLATE = """version: {version}
owner: {owner}
defaults:
  expenses: {bool1}
customers:
  - uid: {uid}
    name: {name}
    description: {text}
    tags: {{{tagkey}: {tagvalue}, k: v}}
    accounting: {platform}
    expenseConfig:
      bankAccount: {text}
      supplier: "1"
      customer: "2"
    protect: {bool2}
    state: {state}
"""
SLOTS = [
    "version",
    "owner",
    "bool1",
    "uid",
    "name",
    "text",
    "tagkey",
    "tagvalue",
    "platform",
    "bool2",
    "state",
]
GOOD = {
    "version": "1",
    "owner": "o",
    "bool1": "true",
    "uid": "c1",
    "name": "N",
    "text": "t",
    "tagkey": "k2",
    "tagvalue": "v",
    "platform": "xero",
    "bool2": "false",
    "state": "present",
}


def _outcome(path: Path) -> tuple[str, Any]:
    try:
        state = load([path])
    except InvalidInput as exc:
        return "invalid", [str(p) for p in exc.problems]
    return "valid", (state.owner, state.customers)


def _both(tmp: Path, text: str, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any]:
    return fast_and_exact(tmp, text, monkeypatch, _outcome)


def _documents() -> Iterator[str]:
    for slot, scalar in itertools.product(SLOTS, TRICKY):
        yield TEMPLATE.format(**{**GOOD, slot: scalar})


@needs_fast
def test_tricky_scalars_mean_the_same_on_both_readers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for text in _documents():
        fast, exact = _both(tmp_path, text, monkeypatch)
        assert fast == exact, text


@needs_fast
def test_the_fast_reader_answers_for_ordinary_files(tmp_path: Path) -> None:
    from benchmarks.bench_validate import generate

    text = generate(50)
    assert fastread.parse_fast("f.yaml", text) is not None
    example = Path(__file__).parents[2] / "examples" / "customers.yaml"
    assert fastread.parse_fast("f.yaml", example.read_text()) is not None  # "Hooli & Partners"
    assert fastread.parse_fast("f.yaml", TEMPLATE.format(**GOOD)) is not None
    # the same state in flow style, as yaml.safe_dump writes it, folding long names at "&"
    flow = "{version: 1, owner: o, customers: [{uid: a, name: Hooli Consulting\n    & Co}]}\n"
    assert fastread.parse_fast("f.yaml", flow) is not None
    for unsure in ["bool1", "tagvalue"]:
        doc = TEMPLATE.format(**{**GOOD, unsure: "yes"})
        assert fastread.parse_fast("f.yaml", doc) is None


@needs_fast
def test_yaml12_non_strings_are_what_yaml_rs_resolves() -> None:
    """Strings yaml-rs returns that would be non-strings when plain were quoted: the safety rule
    of the fast path relies on _YAML12_NOT_STR never matching a plain scalar yaml-rs reads as a
    string."""
    rs = fastread._rs()
    more = ["+12", "-7", "0o7", "0xff", "1E5", "1e-3", "+.5", "-1.", ".NaN", "NULL"]
    for text in [*TRICKY, *more]:
        if yaml11.YAML12_NOT_STR.fullmatch(text):
            assert not isinstance(rs.loads(f"k: {text}\n")["k"], str), text


@needs_fast
@settings(
    max_examples=examples(300),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(scalar=st.from_regex(r"[-+.0-9eExXoOb_:a-fA-F~ynYN]{1,6}", fullmatch=True))
def test_number_like_scalars_agree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, scalar: str
) -> None:
    rs = fastread._rs()
    if yaml11.YAML12_NOT_STR.fullmatch(scalar):
        assert not isinstance(rs.loads(f"k: {scalar}\n")["k"], str), scalar
    for slot in ["text", "tagvalue", "version", "bool2"]:
        fast, exact = _both(tmp_path, TEMPLATE.format(**{**GOOD, slot: scalar}), monkeypatch)
        assert fast == exact, (slot, scalar)


# ------------------------------------------------------------------------- schema engines

SCHEMA = json.loads(schema_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
FAST = is_valid()  # jsonschema-rs: the happy path's check

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-2, 3),
    st.floats(allow_nan=False, width=16),
    st.sampled_from(
        [
            "",
            "x",
            "cus-1",
            "-bad",
            "Café",
            "xero",
            "Xero",
            "qhyg",
            "present",
            "deleted",
            "a" * 28,
            "a" * 101,
            "reconcile.owner",
            "89",
            "77921ff9-3ec0-4a5b-9a55-0b5f4e1d2c3a",
            "77921ff9-3ec0-4a5b-9a55-0b5f4e1d2c3a\n",  # a line break at the end of each kind
            "cus-1\n",
            "Acme\n",
            "reconcile.x\n",
        ]
    ),
)
CUSTOMER_KEYS = [
    "uid",
    "name",
    "description",
    "tags",
    "accounting",
    "expenses",
    "expenseConfig",
    "id",
    "protect",
    "state",
    "extra",
]
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                ["bankAccount", "supplier", "customer", "k", "k\n", "x" * 28, "reconcile.x"]
            ),
            inner,
            max_size=10,
        )
    ),
    max_leaves=12,
)
CUSTOMERS = st.dictionaries(st.sampled_from(CUSTOMER_KEYS), VALUES | SCALARS, max_size=10)
DOCS = st.fixed_dictionaries(
    {"version": SCALARS, "owner": SCALARS, "customers": st.lists(CUSTOMERS, max_size=3)},
    optional={
        "defaults": st.dictionaries(st.sampled_from(CUSTOMER_KEYS), VALUES, max_size=4),
        "other": SCALARS,
    },
)


@settings(max_examples=examples(1500), deadline=None)
@given(doc=DOCS)
def test_fast_check_equals_jsonschema(doc: dict[str, Any]) -> None:
    assert FAST(doc) == VALIDATOR.is_valid(doc)


@given(
    customer=st.fixed_dictionaries(
        {
            "uid": st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._ -]{0,64}", fullmatch=True),
            "name": st.text(max_size=10),
        },
        optional={
            "tags": st.dictionaries(st.text(max_size=30), st.text(max_size=101), max_size=9),
            "state": st.text(max_size=8),
        },
    )
)
def test_fast_check_equals_jsonschema_on_near_valid_customers(customer: dict[str, Any]) -> None:
    doc = {"version": 1, "owner": "o", "customers": [customer]}
    assert FAST(doc) == VALIDATOR.is_valid(doc)


@needs_fast
@MANY_FILES
@given(
    scalar=st.text(alphabet="ab1 -:,[]{}#'\"!|>@`%&*?.~\\/=<", min_size=1, max_size=6),
    slot=st.sampled_from(["text", "tagvalue", "tagkey", "name"]),
)
def test_punctuation_means_the_same_on_both_readers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, scalar: str, slot: str
) -> None:
    fast, exact = _both(tmp_path, TEMPLATE.format(**{**GOOD, slot: scalar}), monkeypatch)
    assert fast == exact, (slot, scalar)


OURS = yamlload._Loader("")
THEIRS = __import__("yaml").SafeLoader("")


@settings(max_examples=examples(2000))
@given(
    value=st.text(max_size=12) | st.sampled_from(TRICKY) | st.from_regex(r"[-+.0-9:eE_]{1,8}"),
    implicit=st.tuples(st.booleans(), st.booleans()),
)
def test_our_resolver_equals_pyyamls(value: str, implicit: tuple[bool, bool]) -> None:
    import yaml

    for kind in (yaml.ScalarNode, yaml.SequenceNode, yaml.MappingNode):
        assert OURS.resolve(kind, value, implicit) == THEIRS.resolve(kind, value, implicit)


def environment(**given: str) -> dict[str, Any]:
    env = {"account": "Acme", "api_key_env": "CODAT_API_KEY_PROD", **given}
    return {"version": 1, "owner": "o", "customers": [], "environments": {"prod": env}}


def tagged(tags: dict[str, str]) -> dict[str, Any]:
    return {"version": 1, "owner": "o", "customers": [{"uid": "a", "name": "A", "tags": tags}]}


@pytest.mark.parametrize(
    ("doc", "valid"),
    [
        (tagged({"region": "uk"}), True),
        (tagged({"reconcile.owner": "x"}), False),  # the refused prefix
        (tagged({"reconcile": "x", "reconciled.x": "y"}), True),
        (tagged({"k\n": "v"}), False),
        (tagged({"k": "v\n"}), False),
        (environment(), True),
        (environment(api_key_env="CODAT_API_KEY_FILE"), False),
        (environment(api_key_env="CODAT_API_KEY_PROD_FILE"), False),
        (environment(api_key_env="CODAT_API_KEY_FILES"), True),
        (environment(api_key_env="CODAT_API_KEY_PROD\n"), False),
        (environment(base_url="https://api.codat.io"), True),
        (environment(base_url="https://api.codat.io\n"), False),
        (environment(account="Acme\n"), False),
        ({"version": 1, "owner": "o", "customers": [], "policy": {"refreshDataEvery": "1d"}}, True),
        (
            {"version": 1, "owner": "o", "customers": [], "policy": {"refreshDataEvery": "0d"}},
            False,
        ),
        ({"version": 1, "owner": "o\n", "customers": []}, False),
    ],
)
def test_the_fast_check_reads_each_pattern_as_jsonschema(doc: dict[str, Any], valid: bool) -> None:
    """jsonschema-rs checks the patterns rewritten without lookaround (`schema.for_automata`):
    each kind (a refused prefix, the end of the string, a lookaround left as it is) decides
    as jsonschema does on the schema as written."""
    assert VALIDATOR.is_valid(doc) is valid
    assert FAST(doc) is valid


@needs_fast
def test_both_readers_locate_customers_alike(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    here = Path(__file__).parent
    texts = [
        (here / "good" / "full.yaml").read_text(),
        TEMPLATE.format(**GOOD),
        "version: 1\nowner: o\ncustomers:\n- {name: A, uid: a}\n-   uid: 'b'\n    name: B\n"
        "- name: C\n  description: 'uid: a'\n  uid: c\n",
        # several customers a line: each column counted from its own line's start
        "version: 1\nowner: o\ncustomers: [{uid: a, name: A}, {uid: b, name: B},\n"
        "  {uid: c, name: C}, {name: D, uid: d}, {uid: e, name: E}]\n",
        '{"version": 1, "owner": "o", "customers": [{"uid": "a", "name": "A"}, '
        '{"name": "B", "uid": "b"}]}',
        '{"version": 1, "owner": "o",\n "customers": [{"uid": "a", "name": "A"},\n'
        '  {"uid": "b", "name": "B"}, {"uid": "c", "name": "C"}]}',
    ]
    for text in texts:
        path = tmp_path / "f.yaml"
        path.write_text(text)
        fast = [c.location for c in load([path]).customers]
        with monkeypatch.context() as patch:
            patch.setattr(fastread, "parse_fast", never)
            exact = [c.location for c in load([path]).customers]
        assert fast == exact, text


def test_one_bare_path_is_not_read_as_characters() -> None:
    here = Path(__file__).parent
    state = load(str(here / "good" / "minimal.yaml"))
    assert state.owner == "expenses-prod"


LAYOUTS = [
    # multi-line plain and quoted scalars, folded the same way by both YAML versions
    "version: 1\nowner: o\ncustomers:\n  - uid: a\n    name: A\n    description: line one\n"
    "      continued here\n\n      after a blank line\n",
    "version: 1\nowner: o\ncustomers:\n  - uid: a\n    name: A\n    description: 'it''s\n"
    "      two lines'\n",
    'version: 1\nowner: o\ncustomers:\n  - uid: a\n    name: A\n    description: "esc \\t \\u00e9'
    ' \\\\ \\" \\\n      joined"\n',
    # sequences not indented under their key, comments everywhere, trailing spaces, CRLF
    "version: 1   \r\nowner: o # the owner\r\ncustomers:\r\n- uid: a   # first\r\n  name: A\r\n"
    "\r\n# between\r\n- uid: b\r\n  name: B\r\n",
    # flow collections over several lines, with trailing commas
    "version: 1\nowner: o\ncustomers: [\n  {uid: a, name: A,\n   tags: {x: y,},},\n"
    "  {uid: b, name: B}\n]\n",
    # explicit document start and end
    "---\nversion: 1\nowner: o\ncustomers: []\n...\n",
    # keys and values needing quotes in YAML 1.1 only
    "version: 1\nowner: o\ncustomers:\n  - uid: a\n    name: A\n    tags:\n      n: no\n",
    "version: 1\nowner: o\ncustomers:\n  - uid: a\n    name: A\n    tags: {y: n}\n",
    # URLs, times and colons inside plain scalars
    "version: 1\nowner: o\ncustomers:\n  - uid: a\n    name: A\n    description: see"
    " https://x.example/a?b=c#d at 10:30\n",
    # keys that are not strings
    "version: 1\nowner: o\ncustomers:\n  - uid: a\n    name: A\n    3: x\n",
    "version: 1\nowner: o\ncustomers:\n  - uid: a\n    name: A\n    tags: {1: x, true: y}\n1: x\n",
    "version: 1\nowner: o\ncustomers:\n  - uid: a\n    name: A\n    tags: {null: x}\n",
    # indicators inside a scalar are text; where a node starts they are syntax
    "version: 1\nowner: o\ncustomers:\n  - uid: a\n    name: Smith & Sons @ Leeds ! Really ? ok\n"
    "    description: a * b | c > d % e ` f, & g, [h] {i}\n",
    "version: 1\nowner: o\ncustomers:\n  - uid: a\n    name: A\n    tags: &t {k: v}\n"
    "  - uid: b\n    name: B\n    tags: *t\n",
    "version: 1\nowner: o\ncustomers:\n  - &c {uid: a, name: A}\n",
    "version: 1\nowner: o\ncustomers: [{uid: a, name: A, tags: !!map {k: v}}]\n",
    "version: 1\nowner: o\ncustomers: [{uid: a, name: A, tags: {k: &v x, l: *v}}]\n",
    "version: 1\nowner: o\ncustomers:\n  - uid: a\n    name: A\n    description:\n      &x text\n",
    # `&` and `*` with a space after name nothing: text where a folded plain scalar goes on
    # (as yaml.safe_dump folds long names), refused where a node starts
    "version: 1\nowner: o\ncustomers: [{uid: a, name: Hooli Consulting\n    & Co, tags: {k: a\n"
    "    * b}}, {uid: b, name: B\n  &\n  * c}]\n",
    "version: 1\nowner: o\ncustomers:\n  - uid: a\n    name: Hooli Consulting\n      & Co\n"
    "    description: a\n      * b\n",
    "version: 1\nowner: o\ncustomers:\n  - uid: a\n    name: & Co\n",
    "version: 1\nowner: o\ncustomers:\n  - uid: a\n    name:\n      * b\n",
    "version: 1\nowner: o\ncustomers: [{uid: a, name: A,\n  & b: c}]\n",
    "version: 1\nowner: o\ncustomers: [{uid: a, name: A\n  & b: c}]\n",
    "version: 1\nowner: o\ncustomers:\n- uid: a\n  name: A\n& b: c\n",
    "version: 1\nowner: o\ncustomers: [{uid: a, name: A}, * ]\n",
    "version: 1\nowner: o\ncustomers:\n  - uid: a\n    name: A\n    description: >\n      folded\n",
    "version: 1\nowner: o\ncustomers:\n  -   !!str a\n",
    "version: 1\nowner: o\ncustomers:\n  - ? uid\n    : a\n    name: A\n",
    # odd but valid indentation
    "version: 1\nowner: o\ncustomers:\n -   uid: a\n     name: A\n     tags:\n         k: v\n",
]


@needs_fast
@pytest.mark.parametrize("text", LAYOUTS)
def test_layouts_mean_the_same_on_both_readers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    fast, exact = _both(tmp_path, text, monkeypatch)
    assert fast == exact


KEYS = st.sampled_from(
    [
        "version",
        "owner",
        "defaults",
        "customers",
        "uid",
        "name",
        "tags",
        "accounting",
        "expenses",
        "expenseConfig",
        "bankAccount",
        "supplier",
        "customer",
        "id",
        "protect",
        "state",
        "description",
        "x",
    ]
)
LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.sampled_from(TRICKY[:40]),
    st.text(max_size=8),
    st.floats(allow_nan=False, allow_infinity=False, width=16),
)
TREES = st.recursive(
    LEAVES,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(KEYS | st.integers(0, 2) | st.booleans(), inner, max_size=5)
    ),
    max_leaves=20,
)


@needs_fast
@MANY_FILES
@given(
    tree=st.fixed_dictionaries(
        {"version": st.just(1) | LEAVES, "owner": st.just("o") | LEAVES, "customers": TREES}
    )
    | TREES,
    flow=st.sampled_from([None, True, False]),
)
def test_random_structures_mean_the_same_on_both_readers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tree: Any, flow: bool | None
) -> None:
    import yaml

    text = yaml.safe_dump(tree, default_flow_style=flow, sort_keys=False, allow_unicode=True)
    fast, exact = _both(tmp_path, text, monkeypatch)
    assert fast == exact, text


YAMLISH = st.text(alphabet="ab1 \n-:,[]{}#'\"!|>&*?.~\\\t%@`<=", max_size=80)


@settings(
    max_examples=examples(500),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(body=YAMLISH)
def test_any_text_is_loaded_or_refused_never_crashes(tmp_path: Path, body: str) -> None:
    path = tmp_path / "f.yaml"
    for text in (body, "version: 1\nowner: o\ncustomers:\n  - uid: a\n    name: A\n" + body):
        path.write_text(text, encoding="utf-8")
        try:
            load([path])
        except InvalidInput as exc:
            assert exc.problems
            assert all(p.line >= 1 and p.col >= 1 for p in exc.problems)
