"""The YAML 1.1 agreement of a yaml-rs reading (`reconcile.desired.yaml11`), held to its rule
written in Python."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from reconcile.desired import yaml11
from tests.conftest import examples

# The YAML 1.1 agreement, written in Python: a string is one in YAML 1.1 too unless a resolver
# of another tag matches it whole (tried on its first characters only, the empty string for
# null) and YAML 1.2 would read it as a string when plain (so it may have been written plain).
YAML11_NOT_STR = [re.compile(pattern, re.X) for pattern in yaml11.YAML11_NOT_STR_PATTERNS]


def a_string_in_yaml11(text: str) -> bool:
    if text and text[0] not in yaml11.YAML11_FIRST_CHARS:
        return True
    if not any(pattern.fullmatch(text) for pattern in YAML11_NOT_STR):
        return True
    return yaml11.YAML12_NOT_STR.fullmatch(text) is not None


def strings_of(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in strings_of(k) + strings_of(v)]
    if isinstance(value, list):
        return [s for item in value for s in strings_of(item)]
    return []


DATE = r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}"
ZONE = r"( ?(Z|[-+][0-9]{1,2}(:[0-9]{2})?))?"
# Scalars near every resolver (numbers, times, words, symbols), and text around them.
SCALARS = st.one_of(
    st.from_regex(r"[-+.0-9eE_:xXoObB]{0,8}", fullmatch=True),
    st.from_regex(
        DATE + r"([Tt ][0-9]{1,2}:[0-9]{2}:[0-9]{2}(\.[0-9]*)?" + ZONE + ")?", fullmatch=True
    ),
    st.sampled_from(
        [
            "yes",
            "Yes",
            "NO",
            "on",
            "Off",
            "true",
            "FALSE",
            "null",
            "~",
            "",
            "!",
            "&",
            "*",
            "<<",
            "=",
            ".inf",
            "-.INF",
            ".NaN",
            "0x1F",
            "0o17",
            "0b10",
            "1_000",
            "1:30",
            "190:20:30",
        ]
    ),
    st.text(alphabet="yesnoNOtrufalTF.0123456789 -+:\"'\\\n\t", max_size=8),
)
DATA = st.recursive(
    SCALARS | st.integers() | st.booleans() | st.none(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(SCALARS, inner, max_size=3),
    max_leaves=12,
)


@settings(max_examples=examples(2000), deadline=None)
@given(data=st.dictionaries(SCALARS, DATA, max_size=4))
def test_the_yaml11_agreement_is_the_rule(data: dict[str, object]) -> None:
    expected = all(a_string_in_yaml11(text) for text in strings_of(data))
    assert yaml11.agrees_with_yaml11(data) == expected


def test_what_jsonschema_rs_cannot_check_goes_to_the_exact_reader() -> None:
    """Keys that are no strings (a complex key, a number) leave the file to the exact reader;
    the control: the same data with string keys is checked."""
    assert not yaml11.agrees_with_yaml11({("a",): "x"})
    assert not yaml11.agrees_with_yaml11({"tags": {1: "x"}})
    assert yaml11.agrees_with_yaml11({"tags": {"1": "x"}})
    assert not yaml11.agrees_with_yaml11({"tags": {"on": "x"}})
