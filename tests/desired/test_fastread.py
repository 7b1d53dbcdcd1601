"""The fast reader's own scans, held to the rules they implement (each written as one regex here:
the regex is the rule, the scan its quicker form)."""

from __future__ import annotations

import json
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from reconcile.desired import fastread
from tests.conftest import examples

# An indicator that starts a node: at a line's start, after ': ', '- ' or '? ', or in flow after
# '[', '{' or ','; an `&` or `*` followed by a space, a line break or the end names nothing.
TOKEN_RULE = re.compile(r"(?:^[ ]*|[:?-][ ]+|[\[{,][ ]*)(?:[!?|>%@`]|[&*](?![ \r\n]|$))", re.M)
LINE_RULE = re.compile(r"^(?:%|---|\.\.\.)", re.M)

# The characters the rules are about, and a few that are not.
texts = st.text(alphabet=" \n\r:?-[]{},!&*|>%@`.ax\t", max_size=40)


@settings(max_examples=3000, deadline=None)
@given(texts)
def test_the_token_scan_is_the_rule(text: str) -> None:
    assert fastread._unsafe_token(text) == (TOKEN_RULE.search(text) is not None)


@given(texts)
def test_the_line_start_scan_is_the_rule(text: str) -> None:
    assert fastread._marker_line(text) == (LINE_RULE.search(text) is not None)


def test_the_token_scan_on_cases_that_matter() -> None:
    unsafe = ["&a", "  *a", "k: !tag", "- ? x", "[&a]", "{a: b, *c}", "k: |", "x\n  @y", "k:  >"]
    safe = ["Smith & Sons", "k: a & b", "k: a\n  & Co", "k: &", "k: * x", "a:&b", "-&a", "a*b"]
    for text in unsafe:
        assert fastread._unsafe_token(text), text
    for text in safe:
        assert not fastread._unsafe_token(text), text


def read_carefully(text: str) -> object:
    """`_json_data` with every key measured as read (`_pairs`), whatever the text."""
    if fastread._json_unsafe(text):
        return None
    try:
        found = json.loads(text, object_pairs_hook=fastread._pairs)
    except (ValueError, fastread._NotTheSame):
        return None
    return found if isinstance(found, dict) else None


# Keys and values around the key limit (128 read), with quotes and escapes that make a string
# written longer than read.
AROUND_THE_LIMIT = st.text(alphabet='a"\\é\n', min_size=40, max_size=140) | st.sampled_from(
    ["k", "uid", "a" * 128, "a" * 129]
)
JSON_DOCS = st.recursive(
    AROUND_THE_LIMIT | st.integers(),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(AROUND_THE_LIMIT, inner, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=examples(2000), deadline=None)
@given(doc=st.dictionaries(AROUND_THE_LIMIT, JSON_DOCS, max_size=3), ascii=st.booleans())
def test_json_keys_are_measured_when_any_could_be_too_long(
    doc: dict[str, object], ascii: bool
) -> None:
    """The quick hook (no key measured) answers only for texts whose strings are all short:
    it reads what measuring every key reads, a long key left to the exact reader."""
    text = json.dumps(doc, ensure_ascii=ascii)
    assert fastread._json_data(text) == read_carefully(text)
