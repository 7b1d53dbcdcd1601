"""Flow-style and JSON-style files take a fast reader and mean what block style means.

Scripts that generate desired-state files tend to write flow style (`yaml.safe_dump(...,
default_flow_style=True)`) or JSON (`json.dumps`). These tests write the same data in every style
and check, for each style, that the fast readers (stdlib json, yaml-rs) agree with the exact one
(PyYAML) on every outcome, problems included, and that all styles give one desired state.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconcile.desired import InvalidInput, fastread, load, yaml11, yamlload
from tests.conftest import examples
from tests.desired.readers import fast_and_exact

STYLES: dict[str, Callable[[Any], str]] = {
    "block": lambda d: yaml.safe_dump(d, sort_keys=False, allow_unicode=True),
    "flow": lambda d: yaml.safe_dump(d, default_flow_style=True, sort_keys=False, width=100),
    "flow-unicode": lambda d: yaml.safe_dump(
        d, default_flow_style=True, sort_keys=False, allow_unicode=True, width=60
    ),
    "json": lambda d: json.dumps(d),
    "json-indent": lambda d: json.dumps(d, indent=2, ensure_ascii=False),
    "json-compact": lambda d: json.dumps(d, separators=(",", ":")),
}


def _outcome(path: Path) -> tuple[str, Any]:
    try:
        state = load([path])
    except InvalidInput as exc:
        return "invalid", [str(p) for p in exc.problems]
    return "valid", (state.owner, state.customers, [c.location for c in state.customers])


def _fast_and_exact(tmp: Path, text: str, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any]:
    return fast_and_exact(tmp, text, monkeypatch, _outcome)


def _generated() -> Any:
    from benchmarks.bench_validate import generate

    return yaml.safe_load(generate(60))


@pytest.mark.parametrize("style", sorted(STYLES))
def test_every_style_takes_a_fast_path(style: str) -> None:
    if style in ("block", "flow", "flow-unicode") and not fastread.fast_available():
        pytest.skip("yaml-rs not installed")
    text = STYLES[style](_generated())
    doc = fastread.parse_fast("f", text)
    assert doc is not None
    assert doc.data == _generated()
    customers = doc.data["customers"]
    assert fastread.uid_positions(text, [c["uid"] for c in customers]) is not None


@pytest.mark.parametrize("style", sorted(STYLES))
def test_every_style_gives_the_block_style_state(
    style: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = _generated()
    fast, exact = _fast_and_exact(tmp_path, STYLES[style](data), monkeypatch)
    assert fast == exact  # locations included: the quick uid scan finds what PyYAML finds
    block, _ = _fast_and_exact(tmp_path, STYLES["block"](data), monkeypatch)
    assert fast[0] == block[0] == "valid"
    assert fast[1][:2] == block[1][:2]


def test_json_reads_the_same_as_pyyaml_or_steps_aside() -> None:
    """Each JSON text below is read by PyYAML differently from json.loads (or is refused by one of
    them): the JSON reader must not answer for it."""
    ok = '{"version": 1, "owner": "o", "customers": []}'
    assert fastread._json_data(ok) == {"version": 1, "owner": "o", "customers": []}
    for text in [
        '{"version": 1, "owner": "o", "owner": "p", "customers": []}',  # duplicate key
        '{"version": 1.0, "owner": "o", "customers": []}',  # a float (YAML 1.1 differs)
        '{"version": 1e0, "owner": "o", "customers": []}',
        '{"version": NaN, "owner": "o", "customers": []}',
        '{"version": Infinity, "owner": "o", "customers": []}',
        '{"version": 1, "owner": "\\ud83d\\ude00", "customers": []}',  # surrogate escapes
        '{"version": 1, "owner": "o", "customers": [], "' + "k" * 1100 + '": 1}',  # long key
        '{"version": 1, "owner"\n: "o", "customers": []}',  # line break before the colon
        '{"version": 1, "owner"\r: "o", "customers": []}',
        '{"version": 1, "owner"' + " " * 80 + ': "o", "customers": []}',
        '{"version": 1,\t"owner": "o", "customers": []}',  # tab
        '{"version": 1, "owner": "o\u2028", "customers": []}',  # YAML line break
        '{"version": 1, "owner": "o\x85", "customers": []}',
        '[{"version": 1}]',  # not a mapping
        '{"version": 1} {"owner": "o"}',  # trailing data
        '{"version": 1, "owner": "o", "customers": []}\n# a YAML comment',
    ]:
        assert fastread._json_data(text) is None or fastread.parse_fast("f", text) is None, text


def test_big_numbers_are_problems_not_crashes(tmp_path: Path) -> None:
    for text in [
        "version: " + "1" * 5000 + "\nowner: o\ncustomers: []\n",
        '{"version": ' + "1" * 5000 + ', "owner": "o", "customers": []}',
    ]:
        path = tmp_path / "f.yaml"
        path.write_text(text)
        with pytest.raises(InvalidInput) as caught:
            load([path])
        [problem] = caught.value.problems
        assert problem.message.startswith("'version' must be the number 1, got '111111111111...'")


def test_version_must_be_written_as_a_plain_one_on_the_fast_path() -> None:
    if not fastread.fast_available():
        pytest.skip("yaml-rs not installed")
    for written in ["1.0", "0o1", "0x1", "01", "+1", "1 # one"]:
        for text in [
            f"version: {written}\nowner: o\ncustomers: []\n",
            f"{{version: {written}, owner: o, customers: []}}\n",
        ]:
            doc = fastread.parse_fast("f", text)
            plain = written in ("1 # one",) and not text.startswith("{")
            assert (doc is not None) == plain, text


def test_the_copied_yaml11_patterns_are_pyyamls() -> None:
    assert sorted(yaml11.YAML11_NOT_STR_PATTERNS) == yamlload.yaml11_patterns()
    resolvers = yaml.resolver.Resolver.yaml_implicit_resolvers
    assert set(resolvers) == {"", *yaml11.YAML11_FIRST_CHARS}


def test_a_valid_file_is_read_without_pyyaml_or_jsonschema(tmp_path: Path) -> None:
    import subprocess
    import sys

    path = tmp_path / "f.json"
    path.write_text(STYLES["json"](_generated()))
    code = (
        "import sys; from reconcile.desired import load;"
        f" load([{str(path)!r}]);"
        " print(sorted(m for m in ('yaml', 'jsonschema', 'yaml_rs') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[]"


# ------------------------------------------------------------------------- Hypothesis

TEXTS = st.one_of(
    st.sampled_from(
        [
            "yes",
            "no",
            "on",
            "1",
            "012",
            "1e3",
            "1.5",
            "2024-01-01",
            "null",
            "~",
            "",
            "a: b",
            "a, b",
            "{x}",
            "[y]",
            "#c",
            "it's",
            'say "hi"',
            "back\\slash",
            "\\u0041",
            "café",
            "😀",
            "a\nb",
            "\x1b]52;c;aGk=\x07",
            "\x7f",
            "\u2028",
            "\xa0",
            "Acme Ltd",
            "xero",
            "qhyg",
            "present",
            "deleted",
            "77921ff9-3ec0-4a5b-9a55-0b5f4e1d2c3a",
        ]
    ),
    st.text(max_size=12),
)
SCALARS = st.one_of(TEXTS, st.booleans(), st.none(), st.integers(-2, 3))
UIDS = st.from_regex(r"[a-z0-9][a-z0-9._-]{0,8}", fullmatch=True)


PLAIN = st.from_regex(r"[A-Za-z][A-Za-z0-9 ,.'&-]{0,14}[a-z]", fullmatch=True)


@st.composite
def documents(draw: st.DrawFn, texts: st.SearchStrategy[str] = TEXTS) -> dict[str, Any]:
    TEXTS = texts

    def maybe(key: str, values: st.SearchStrategy[Any], into: dict[str, Any]) -> None:
        if draw(st.booleans()):
            into[key] = draw(values)

    customers = []
    for uid in draw(st.lists(UIDS, max_size=4, unique=True)):
        customer: dict[str, Any] = {"uid": uid, "name": draw(TEXTS | st.just("Acme Ltd"))}
        maybe("description", SCALARS, customer)
        maybe("tags", st.dictionaries(TEXTS, SCALARS, max_size=9), customer)
        maybe("accounting", st.sampled_from(["xero", "qbo", "Xero", "nope"]) | SCALARS, customer)
        maybe("expenses", SCALARS, customer)
        maybe("protect", st.booleans() | SCALARS, customer)
        maybe("state", st.sampled_from(["present", "absent", "deleted"]) | SCALARS, customer)
        maybe(
            "expenseConfig",
            st.fixed_dictionaries({"bankAccount": TEXTS, "supplier": TEXTS, "customer": TEXTS}),
            customer,
        )
        maybe(draw(st.sampled_from(["extra", "Name", "uid2"])), SCALARS, customer)
        customers.append(customer)
    doc: dict[str, Any] = {
        "version": draw(st.just(1) | SCALARS),
        "owner": draw(st.just("o") | TEXTS),
    }
    if draw(st.booleans()):
        doc["defaults"] = draw(
            st.fixed_dictionaries(
                {},
                optional={
                    "expenses": st.booleans(),
                    "protect": st.booleans(),
                    "tags": st.dictionaries(TEXTS, TEXTS, max_size=8),
                    "description": TEXTS,
                },
            )
        )
    doc["customers"] = customers
    return doc


def _printable(text: str) -> bool:
    """Whether YAML 1.2 allows every character of `text` unescaped (its c-printable set)."""
    return all(
        ch in "\t\n\r\x85"
        or "\x20" <= ch <= "\x7e"
        or "\xa0" <= ch <= "\ud7ff"
        or "\ue000" <= ch <= "\ufffd"
        or ch >= "\U00010000"
        for ch in text
    )


@settings(
    max_examples=examples(300),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(doc=documents() | documents(PLAIN))
def test_styles_mean_the_same_on_every_reader(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, doc: dict[str, Any]
) -> None:
    outcomes = {}
    for style, write in STYLES.items():
        fast, exact = _fast_and_exact(tmp_path, write(doc), monkeypatch)
        assert fast == exact, style
        outcomes[style] = fast
    # PyYAML's emitter writes YAML 1.1: a string such as 1e3 goes out plain, which the format
    # refuses (YAML 1.2 reads a number). So YAML styles are compared with YAML styles, JSON
    # styles with JSON styles, and a block-style file that is valid means the same in JSON.
    json_group = ["json", "json-indent", "json-compact"]
    if not _printable(json.dumps(doc, ensure_ascii=False)):
        # json-indent writes every character as it is, and YAML 1.2 allows some (U+FFFE, C1
        # controls) only escaped: such a file is refused with where and what to do; the
        # styles that escape them mean the same as the others.
        assert outcomes["json-indent"][0] == "invalid", outcomes["json-indent"]
        json_group.remove("json-indent")
    for group in (["block", "flow", "flow-unicode"], json_group):
        first = outcomes[group[0]]
        for style in group[1:]:
            assert outcomes[style][0] == first[0], (group[0], style)
            if first[0] == "valid":
                assert outcomes[style][1][:2] == first[1][:2], (group[0], style)
    if outcomes["block"][0] == "valid":
        assert outcomes["json"][0] == "valid"
        assert outcomes["json"][1][:2] == outcomes["block"][1][:2]


@settings(
    max_examples=examples(300),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    body=st.text(alphabet='{}[]",: \n\r\t\\u0dD8eE1.-+aNI', max_size=60),
)
def test_json_like_text_is_read_the_same_or_left_to_pyyaml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str
) -> None:
    text = '{"version": 1, "owner": "o", "customers": [' + body
    fast, exact = _fast_and_exact(tmp_path, text, monkeypatch)
    assert fast == exact


def test_non_printable_is_pyyamls_printable_set_complemented() -> None:
    """fastread writes YAML's printable set as its complement (cheap to compile): the same set."""
    import re

    printable = re.compile(
        "[\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
    )
    for code in range(0x110000):
        char = chr(code)
        assert (fastread._NON_PRINTABLE.match(char) is None) == bool(printable.match(char)), code
