"""The cross-file and merged checks' quick paths (`reconcile.desired.checks`): each leaves out
only what the careful path has nothing to say about."""

from __future__ import annotations

from typing import Any
from unittest.mock import patch

from hypothesis import example, given, settings
from hypothesis import strategies as st

from reconcile.desired import checks
from reconcile.desired.document import Document
from reconcile.desired.problems import Issue
from tests.conftest import examples

TAGS = st.dictionaries(st.sampled_from([f"k{i}" for i in range(10)]), st.just("v"), max_size=10)
DEFAULT_TAGS = st.dictionaries(
    st.sampled_from(["k0", "k1", "d0", "d1", "d2", "d3", "d4", "d5"]), st.just("v"), max_size=9
)
PROTECT = st.sampled_from([True, False, None, "yes"])
CUSTOMER = st.fixed_dictionaries(
    {"uid": st.sampled_from(["a", "b", "c"]), "name": st.just("N")},
    optional={
        "tags": TAGS | st.just(["not", "a", "map"]),
        "protect": PROTECT,
        "state": st.sampled_from(["present", "deleted", "absent"]),
        "accounting": st.sampled_from(["xero", None]),
        "expenseConfig": st.just({"bankAccount": "1", "supplier": "2", "customer": "3"}),
        "id": st.sampled_from(["ID-1", "id-1", "id-2"]),
        "overrides": st.dictionaries(
            st.sampled_from(["test", "prod"]),
            st.fixed_dictionaries(
                {},
                optional={
                    "tags": TAGS,
                    "protect": PROTECT,
                    "state": st.sampled_from(["deleted", "present"]),
                    "accounting": st.sampled_from(["xero", None]),
                },
            ),
            max_size=2,
        ),
    },
)
DEFAULTS = st.fixed_dictionaries(
    {},
    optional={
        "tags": DEFAULT_TAGS,
        "protect": PROTECT,
        "accounting": st.sampled_from(["xero", None]),
    },
)
DATA = st.fixed_dictionaries(
    {"customers": st.lists(CUSTOMER | st.just("not a customer"), max_size=6)},
    optional={"defaults": DEFAULTS},
)


def issues(data: dict[str, Any]) -> list[Issue]:
    return list(checks._customer_checks(data, checks._customers(data)))


CONFIG = {"bankAccount": "1", "supplier": "2", "customer": "3"}
FOUR_TAGS = {f"k{i}": "v" for i in range(4)}


@settings(max_examples=examples(1000), deadline=None)
@given(data=DATA)
# each thing the merged checks say, once (random data finds some combinations rarely)
@example(data={"customers": [{"uid": "a", "name": "N", "state": "deleted", "protect": True}]})
@example(data={"defaults": {"protect": True}, "customers": [{"state": "deleted"}]})
@example(data={"customers": [{"uid": "a", "name": "N", "expenseConfig": CONFIG}]})
@example(data={"customers": [{"overrides": {"t": {"state": "deleted", "protect": True}}}]})
@example(
    data={"defaults": {"tags": FOUR_TAGS}, "customers": [{"tags": {"x": "v"}, "protect": True}]}
)
def test_the_customers_left_out_have_nothing_to_say(data: dict[str, Any]) -> None:
    """The merged checks of every customer say what those of the customers
    `_something_to_say` keeps say."""
    quick = issues(data)
    with patch.object(checks, "_something_to_say", every_mapping):
        assert quick == issues(data)


def every_mapping(customers: list[Any], _: dict[str, Any]) -> checks.Customers:
    return [(position, c) for position, c in enumerate(customers) if isinstance(c, dict)]


@settings(max_examples=examples(500), deadline=None)
@given(files=st.lists(DATA, min_size=1, max_size=3), key=st.sampled_from(["uid", "id"]))
def test_each_value_written_again_is_reported_once(files: list[dict[str, Any]], key: str) -> None:
    """The quick path (every value once: nothing to say) agrees with the careful one: one
    issue per value written again (company ids compared case-insensitively)."""
    docs = [Document(file=f"f{i}.yaml", text="", data=data) for i, data in enumerate(files)]
    listed = [checks._customers(doc.data) for doc in docs]
    values = [c[key] for customers in listed for c in customers if isinstance(c, dict) and key in c]
    norm = [value.casefold() for value in values] if key == "id" else values
    found = list(checks._unique(docs, listed, key, key))
    assert len(found) == len(norm) - len(set(norm))


def test_the_control_a_customer_over_its_tag_budget_is_kept() -> None:
    """The quick path keeps a customer whose tags with the defaults' exceed the protected
    budget by one, and the checks then report it."""
    customer = {"uid": "a", "name": "N", "protect": True, "tags": {f"k{i}": "v" for i in range(4)}}
    default_tags = {"d1": "v", "d2": "v", "d3": "v", "d4": "v"}
    data: dict[str, Any] = {"defaults": {"tags": default_tags}, "customers": [customer]}
    assert checks._something_to_say(checks._customers(data), default_tags) != []
    assert [issue.path for issue in issues(data)] == [("customers", 0, "tags")]
