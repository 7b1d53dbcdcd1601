"""dump() and load() agree: generated models round-trip, and load(dump(load(x))) is stable."""

from __future__ import annotations

import uuid
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconcile.desired import dump, load
from reconcile.desired.dump import quote
from reconcile.model import PLATFORMS, Customer, DesiredState, ExpenseConfig
from tests.conftest import examples

HERE = Path(__file__).parent

UIDS = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", fullmatch=True)
NAMES = st.from_regex(r"[A-Za-z0-9 \-',&@.?!]{1,40}", fullmatch=True).filter(
    lambda n: n == n.strip() and n != ""
)
# No string of the file may hold a control character (C0, DEL, C1: category Cc).
CHARS = st.characters(exclude_categories=("Cc", "Cs"))
TEXT = st.text(CHARS, max_size=60)
TAG_KEYS = st.text(CHARS, min_size=1, max_size=27).filter(lambda k: not k.startswith("reconcile."))
TAG_VALUES = st.text(CHARS, max_size=100)
IDS = st.uuids().map(str)
KEYS = st.sampled_from([p.key for p in PLATFORMS])


@st.composite
def customers(draw: st.DrawFn, uid: str) -> Customer:
    accounting = draw(st.none() | KEYS)
    config = None
    if accounting is not None and draw(st.booleans()):
        ids = st.text(CHARS, min_size=1, max_size=20)
        config = ExpenseConfig(draw(ids), draw(ids), draw(ids))
    protect = draw(st.booleans())
    # A protected company carries reconcile.protect too: 7 user tags, not 8.
    tags = draw(st.dictionaries(TAG_KEYS, TAG_VALUES, max_size=7 if protect else 8))
    states = ["present", "absent"] if protect else ["present", "absent", "deleted"]
    return Customer(
        uid=uid,
        name=draw(NAMES),
        description=draw(st.none() | TEXT),
        tags=tags,
        accounting=accounting,
        expenses=draw(st.booleans()),
        expense_config=config,
        id=draw(st.none() | IDS),
        protect=protect,
        state=draw(st.sampled_from(states)),
    )


@st.composite
def states(draw: st.DrawFn) -> DesiredState:
    uids = draw(st.lists(UIDS, unique=True, max_size=6))
    return DesiredState(owner=draw(UIDS), customers=tuple(draw(customers(uid)) for uid in uids))


def _load_text(tmp: Path, text: str) -> DesiredState:
    path = tmp / f"{uuid.uuid4().hex}.yaml"
    path.write_text(text, encoding="utf-8")
    try:
        return load([path])
    finally:
        path.unlink()


@settings(
    max_examples=examples(150),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(state=states())
def test_generated_models_round_trip(tmp_path: Path, state: DesiredState) -> None:
    text = dump(state)
    loaded = _load_text(tmp_path, text)
    assert loaded.owner == state.owner
    assert loaded.customers == state.customers
    assert dump(loaded) == text


@given(st.text())
def test_quote_reads_back_as_the_same_string(text: str) -> None:
    import yaml

    assert yaml.load(f"k: {quote(text)}\n", Loader=yaml.CSafeLoader) == {"k": text}


def test_fixtures_are_stable_through_dump(tmp_path: Path) -> None:
    good = HERE / "good"
    for path in [good / "full.yaml", good / "dir", good / "minimal.yaml"]:
        first = load([path])
        again = _load_text(tmp_path, dump(first))
        assert again.customers == first.customers
        assert dump(again) == dump(first)


def test_dump_is_readable() -> None:
    state = load([HERE / "good" / "full.yaml"])
    text = dump(state)
    assert text.startswith("version: 1\nowner: expenses-prod\ncustomers:\n  - uid: cus-0001\n")
    assert "    name: Sawayn Group\n" in text
    assert "    accounting: quickbooks-online\n" in text
    assert '      bankAccount: "89"\n' in text
    assert '  - uid: "0042"\n' in text
    assert '      "on": "yes"\n' in text


def test_empty_state_dumps_an_empty_list(tmp_path: Path) -> None:
    text = dump(DesiredState(owner="o", customers=()))
    assert text == "version: 1\nowner: o\ncustomers: []\n"
    assert _load_text(tmp_path, text).customers == ()
