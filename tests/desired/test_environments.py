"""Environments in the desired-state file: declared, limited, overridden, checked with file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconcile.desired import InvalidInput, load
from reconcile.environments import EnvironmentChoiceError, check_choice, for_environment, names

HEAD = """\
version: 1
owner: acme
environments:
  test: {account: "Acme (test)", api_key_env: CODAT_API_KEY_TEST}
  prod: {account: "Acme", api_key_env: CODAT_API_KEY_PROD, base_url: "https://api.codat.io"}
promote: [test, prod]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "customers.yaml"
    path.write_text(text)
    return path


def problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(InvalidInput) as caught:
        load([write(tmp_path, text)])
    return [str(p).split(":", 1)[1] for p in caught.value.problems]  # without the folder


def test_each_environment_sees_its_customers_with_its_overrides(tmp_path: Path) -> None:
    state = load(
        [
            write(
                tmp_path,
                HEAD
                + """\
defaults: {tags: {team: ops}}
customers:
  - uid: c1
    name: One
    accounting: xero
    expenses: true
    tags: {tier: gold}
    overrides:
      test:
        accounting: qbo
        tags: {tier: trial}
        expenseConfig: {bankAccount: "1", supplier: "2", customer: "3"}
      prod: {state: absent, protect: false}
  - uid: c2
    name: Two
    environments: [test]
""",
            )
        ]
    )
    assert names(state) == ["test", "prod"]
    assert state.environments["prod"].base_url == "https://api.codat.io"
    test, prod = for_environment(state, "test"), for_environment(state, "prod")
    assert (test.environment, prod.environment) == ("test", "prod")
    assert [c.uid for c in test.customers] == ["c1", "c2"]
    assert [c.uid for c in prod.customers] == ["c1"]
    one_test, one_prod = test.customers[0], prod.customers[0]
    assert (one_test.accounting, one_prod.accounting) == ("qhyg", "gbol")
    assert dict(one_test.tags) == {"team": "ops", "tier": "trial"}  # defaults still merge
    assert dict(one_prod.tags) == {"team": "ops", "tier": "gold"}
    assert one_test.expense_config is not None and one_prod.expense_config is None
    assert (one_test.state, one_prod.state) == ("present", "absent")
    assert one_prod.unprotect and not one_test.unprotect
    assert one_test.expenses and one_prod.expenses  # not overridable: the customer's own
    assert not one_test.overrides and one_test.environments is None  # resolved


def test_a_file_without_environments_is_used_as_it_is(tmp_path: Path) -> None:
    state = load([write(tmp_path, "version: 1\nowner: o\ncustomers:\n  - {uid: a, name: A}\n")])
    assert for_environment(state, None) is state
    check_choice(state, None)
    with pytest.raises(EnvironmentChoiceError, match="declares no environments"):
        check_choice(state, "prod")


def test_the_choice_is_required_and_must_be_declared(tmp_path: Path) -> None:
    state = load([write(tmp_path, HEAD + "customers: []\n")])
    with pytest.raises(EnvironmentChoiceError, match=r"declares environments \(test, prod\)"):
        check_choice(state, None)
    with pytest.raises(EnvironmentChoiceError, match=r"use one of test, prod$"):
        check_choice(state, "all")
    check_choice(state, "all", allow_all=True)
    with pytest.raises(EnvironmentChoiceError, match="or 'all' to compare them"):
        check_choice(state, "qa", allow_all=True)


def test_bad_environments_are_errors_with_positions(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        """\
version: 1
owner: acme
environments:
  test: {account: "Acme (test)", api_key_env: codat_key}
  all: {account: "x", api_key_env: CODAT_API_KEY}
  qa: {account: "Acme QA"}
promote: [test, staging]
customers:
  - uid: c1
    name: One
    accounting: xero
    overrides:
      test: {name: Other, accounting: nope}
      prod: {state: absent}
  - uid: c2
    name: Two
    environments: [test, test]
  - uid: c3
    name: Three
    environments: [qa]
    overrides:
      test: {protect: true}
""",
    )
    assert found == [
        "4:47: api_key_env 'codat_key' is invalid: name CODAT_API_KEY or CODAT_API_KEY_<NAME>"
        " (capitals, digits and '_', at most 64 characters, without _FILE: that is appended to"
        " find a key file), e.g. CODAT_API_KEY_PROD",
        "5:3: environment name 'all' is invalid: use 1-32 lowercase letters, digits, '_' or '-',"
        " starting with a letter ('all' is reserved)",
        "6:7: qa is missing required key 'api_key_env'",
        "7:17: promote names 'staging', which is not declared (declared: all, qa, test)",
        "13:14: 'name' cannot be overridden per environment: only accounting, expenseConfig,"
        " tags, state and protect can; set it on the customer itself",
        "13:39: unknown accounting platform 'nope'; valid: netsuite, oracle-netsuite,"
        " quickbooks-desktop, qbd, quickbooks-online, qbo, sage-intacct, intacct, xero,"
        " dynamics-365-business-central, freeagent, zoho-books; or a 4-letter key: akxx, pqsw,"
        " qhyg, knfz, gbol, trji, fbrh, rwuv",
        "14:7: overrides for 'prod', which is not declared (declared: all, qa, test)",
        "17:19: 'environments' names an environment twice: list each once",
        "22:7: overrides for 'test', where this customer does not exist (its environments: qa);"
        " remove them or list 'test'",
    ]


def test_an_override_is_checked_with_the_customer_it_changes(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        HEAD
        + """\
customers:
  - uid: c1
    name: One
    tags: {a: "1", b: "2", c: "3", d: "4", e: "5", f: "6", g: "7", h: "8"}
    overrides:
      test: {protect: true}
  - uid: c2
    name: Two
    overrides:
      prod: {expenseConfig: {bankAccount: "1", supplier: "2", customer: "3"}}
  - uid: c3
    name: Three
    protect: true
    overrides:
      prod: {state: deleted}
""",
    )
    assert found == [
        "12:7: in environment 'test': 8 user tags; a customer with protect: true has at most 7"
        " (Codat allows 10 tags a company and reconcile uses 3: reconcile.owner, reconcile.uid"
        " and reconcile.protect); remove 1 tag",
        "16:14: in environment 'prod': expenseConfig needs an accounting platform: set"
        " 'accounting' on this customer or in defaults",
        "21:14: in environment 'prod': state: deleted is not allowed with protect: true; set"
        " protect: false to delete this customer",
    ]


def test_a_hostile_env_name_is_escaped_in_the_error(tmp_path: Path) -> None:
    state = load([write(tmp_path, HEAD + "customers: []\n")])
    with pytest.raises(EnvironmentChoiceError) as caught:
        check_choice(state, "\x1b[2Jprod")
    assert "\x1b" not in str(caught.value) and "prod" in str(caught.value)


ONE_ENV = (
    'version: 1\nowner: acme\nenvironments:\n  prod: {{account: "Acme", api_key_env: {name}}}\n'
)


@pytest.mark.parametrize(
    "name",
    ["RECONCILE_SIGNING_KEY", "CODAT_API_KEY_PROD_FILE", "CODAT_API_KEY_", "AWS_SECRET_ACCESS_KEY"],
)
def test_api_key_env_names_only_a_codat_api_key_variable(tmp_path: Path, name: str) -> None:
    text = ONE_ENV.format(name=name)
    found = problems(tmp_path, text + "customers: []\n")
    assert found == [
        f"4:40: api_key_env '{name}' is invalid: name CODAT_API_KEY or CODAT_API_KEY_<NAME>"
        " (capitals, digits and '_', at most 64 characters, without _FILE: that is appended to"
        " find a key file), e.g. CODAT_API_KEY_PROD"
    ]


@pytest.mark.parametrize("name", ["CODAT_API_KEY", "CODAT_API_KEY_PROD", "CODAT_API_KEY_EU_2"])
def test_api_key_env_accepts_codat_api_key_variables(tmp_path: Path, name: str) -> None:
    text = ONE_ENV.format(name=name)
    state = load([write(tmp_path, text + "customers: []\n")])
    assert state.environments["prod"].api_key_env == name
