"""A company's connections sorted in one pass (`reconcile.planner.connections`): for random
connections and any wanted platform (none, the registry's own, or an equal copy of it), the same
lists, in the same order, as the model's properties say one list at a time."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from reconcile.model import PLATFORMS, Connection, Platform, Status
from reconcile.planner.connections import partner_linked, sort_accounting
from tests.conftest import examples
from tests.support.factories import conn

# Few values each, so that every kind meets the others often: platforms known by key or only by
# name (in another case), unknown ones, the partner expense key, other source types.
KEYS = ["gbol", "qhyg", "expn", "hbql", ""]
NAMES = ["Xero", "quickbooks online", "Sage 50 (UK)", ""]
STATUSES = [s.value for s in Status] + ["Unknown"]
SOURCES = ["Accounting", "Accounting", "Expense", "Banking"]
WANTED = [p for p in PLATFORMS if p.key in ("gbol", "qhyg")]

connections = st.lists(
    st.builds(
        Connection,
        id=st.sampled_from(["c1", "c2"]),  # repeated: equal connections are told apart by identity
        source_type=st.sampled_from(SOURCES),
        platform_name=st.sampled_from(NAMES),
        status=st.sampled_from(STATUSES),
        link_url=st.just("https://link.example/c"),
        created=st.just("2026-11-20T10:00:00Z"),
        integration_key=st.none() | st.sampled_from(KEYS),
    ),
    max_size=6,
).map(tuple)
platforms = st.none() | st.sampled_from(WANTED).flatmap(
    lambda p: st.sampled_from([p, Platform(p.key, p.name, p.aliases)])
)


def by_properties(
    found: tuple[Connection, ...], platform: Platform | None
) -> tuple[list[Connection], ...]:
    """The lists as the planner wrote them before, one comprehension each."""
    active = [c for c in found if c.is_accounting and c.active]
    named = [c for c in active if c.nameable]
    unnamed = [c for c in active if not c.nameable]
    if platform is None:
        return named, unnamed, [], []
    wanted = [c for c in named if c.platform == platform]
    deauthorized = [
        c
        for c in found
        if c.is_accounting and c.platform == platform and c.status == Status.DEAUTHORIZED.value
    ]
    return named, unnamed, wanted, deauthorized


def ids(lists: tuple[list[Connection], ...]) -> list[list[int]]:
    return [[id(c) for c in found] for found in lists]


@settings(max_examples=examples(500))
@given(found=connections, platform=platforms)
def test_one_pass_sorts_as_the_properties_say(
    found: tuple[Connection, ...], platform: Platform | None
) -> None:
    assert ids(sort_accounting(found, platform)) == ids(by_properties(found, platform))


@settings(max_examples=examples(300))
@given(found=connections)
def test_a_linked_partner_expense_connection_is_found_as_the_properties_say(
    found: tuple[Connection, ...],
) -> None:
    expected = any(c.is_partner_expense and c.status == Status.LINKED.value for c in found)
    assert partner_linked(found) is expected


def test_an_equal_platform_is_the_wanted_one() -> None:
    """A platform equal to the registry's but another object still selects its connections."""
    xero = next(p for p in PLATFORMS if p.key == "gbol")
    linked, pending = conn("a", "Linked", key="gbol"), conn("b", "Deauthorized", key="gbol")
    copy = Platform(xero.key, xero.name, xero.aliases)
    assert ids(sort_accounting((linked, pending), copy)) == [
        [id(linked)],
        [],
        [id(linked)],
        [id(pending)],
    ]
