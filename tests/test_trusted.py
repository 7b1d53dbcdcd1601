"""`reconcile.trusted`: which environment settings a run may take from a file (pure)."""

from __future__ import annotations

import pytest

from reconcile.codat.baseurl import is_trusted_host
from reconcile.model import Environment
from reconcile.trusted import against_base, allowed_from, off_codat

PROD = Environment("prod", "Acme", "CODAT_API_KEY_PROD")
TEST = Environment("test", "Acme (test)", "CODAT_API_KEY_TEST", "http://127.0.0.1:9000")


def test_the_same_environments_as_the_base_are_trusted() -> None:
    assert against_base({"prod": PROD, "test": TEST}, {"test": TEST, "prod": PROD}, "b") == []


@pytest.mark.parametrize(
    ("field", "value"),
    [("account", "Other"), ("base_url", "https://evil.example"), ("api_key_env", "CODAT_API_KEY")],
)
def test_a_changed_trusted_field_is_refused_naming_it(field: str, value: str) -> None:
    changed = _with(PROD, field, value)
    (found,) = against_base({"prod": PROD}, {"prod": changed}, "base/customers.yaml")
    assert (found.env, found.field) == ("prod", field)
    assert f"{field} differs from the base files (base/customers.yaml)" in found.message
    assert "maintainer's own change on the default branch" in found.message


def test_an_added_or_removed_environment_is_refused() -> None:
    added = against_base({"prod": PROD}, {"prod": PROD, "test": TEST}, "b")
    assert [(d.env, d.field) for d in added] == [("test", None)]
    assert "'test' is not declared in the base files" in added[0].message
    removed = against_base({"prod": PROD, "test": TEST}, {"prod": PROD}, "b")
    assert [(d.env, d.field) for d in removed] == [(None, None)]
    assert "'test' of the base files (b) is missing here" in removed[0].message


@pytest.mark.parametrize(
    "url",
    [
        "https://api.codat.io",
        "https://API.codat.io:443/",
        "https://api.codat.io/some/path",
        "http://127.0.0.1:8765",
        "http://localhost:1",
        "http://[::1]:80",
    ],
)
def test_codat_and_loopback_are_trusted_hosts(url: str) -> None:
    assert is_trusted_host(url)


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example",
        "https://api.codat.io.evil.example",
        "https://api.codat.io:8443",
        "http://api.codat.io",
        "https://user@evil.example",
        "ftp://api.codat.io",
        "not a url",
    ],
)
def test_other_hosts_are_not_trusted_unless_allowed(url: str) -> None:
    assert not is_trusted_host(url)
    if url.startswith("https://evil.example"):
        assert is_trusted_host(url, ("https://evil.example/",))


def test_off_codat_checks_only_the_environments_the_run_uses() -> None:
    envs = {"prod": _with(PROD, "base_url", "https://evil.example"), "test": TEST}
    assert off_codat(envs, ["test"], ()) == []
    (found,) = off_codat(envs, ["prod", "test"], ())
    assert (found.env, found.field) == ("prod", "base_url")
    assert '--allow-base-url "https://evil.example"' in found.message
    assert off_codat(envs, ["prod"], ["https://evil.example"]) == []


def test_allowed_comes_from_the_option_and_the_operators_variable() -> None:
    environ = {"RECONCILE_ALLOW_BASE_URL": "https://a.example, https://b.example"}
    assert allowed_from(["https://c.example"], environ) == {
        "https://a.example",
        "https://b.example",
        "https://c.example",
    }
    assert allowed_from([], {}) == frozenset()


def _with(env: Environment, field: str, value: str) -> Environment:
    from dataclasses import replace

    return replace(env, **{field: value})  # type: ignore[arg-type]


def test_codats_hosts_are_the_servers_of_codats_api_documents() -> None:
    """CODAT_API_URLS are the `servers` of Codat's OpenAPI documents (checked when the documents
    are beside the project; the contract the tests carry holds no servers)."""
    import json

    from reconcile.codat.baseurl import CODAT_API_URLS
    from tests.contract.extract import DEFAULT_OAS_DIR

    documents = sorted(DEFAULT_OAS_DIR.glob("*.json")) if DEFAULT_OAS_DIR.is_dir() else []
    if not documents:
        pytest.skip("Codat's OpenAPI documents are not beside the project")
    servers = {
        server["url"].rstrip("/")
        for document in documents
        for server in json.loads(document.read_text()).get("servers", [])
    }
    assert servers and set(CODAT_API_URLS) == servers
