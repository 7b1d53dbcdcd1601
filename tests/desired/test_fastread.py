"""The fast reader's own scans, held to the rules they implement (each written as one regex here:
the regex is the rule, the scan its quicker form)."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from reconcile.desired import fastread

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
