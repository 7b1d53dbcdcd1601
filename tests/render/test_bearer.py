"""`reconcile.render.bearer`: the last line of defence for free text in shared outputs (a reason,
a warning, Codat's error message): Link URLs and ids become placeholders, nothing else does."""

from __future__ import annotations

import json

from reconcile.render.bearer import ID_HIDDEN, LINK_HIDDEN, hide, hide_ids

CID = "095f1c2a-1b2c-4d3e-8f90-0a1b2c3d4e5f"
CONN = "6e2b9c1d-0000-4000-8000-00000000abcd"


def test_ids_and_link_urls_become_placeholders() -> None:
    message = (
        f"GET /companies/{CID}/connections: 500; open https://link.codat.io/company/{CID} or "
        f"http://127.0.0.1:8000/link/companies/{CID}/connections/{CONN}/start"
    )
    shown = hide(message)
    assert CID not in shown and CONN not in shown and "link.codat.io" not in shown
    assert shown == (
        f"GET /companies/{ID_HIDDEN}/connections: 500; open {LINK_HIDDEN} or {LINK_HIDDEN}"
    )
    assert hide(CID.upper()) == ID_HIDDEN  # ids in any case


def test_anything_else_is_left_as_it_is() -> None:
    """The control: text without ids or Link URLs passes through unchanged."""
    text = "Plan: 2 to create; see https://github.com/org/repo/pull/12 (sha 0123abcd)"
    assert hide(text) == text
    assert hide("https://link-api.codat.io/x") == LINK_HIDDEN  # a Link host, even without an id


def test_only_the_named_ids_leave_a_json_document() -> None:
    other = "11111111-2222-4333-8444-555555555555"
    document = json.dumps({"a": CID, "b": other, "url": f"https://example.test/c/{CID}/x"})
    shown = json.loads(hide_ids(document, frozenset({CID})))
    assert shown == {"a": ID_HIDDEN, "b": other, "url": LINK_HIDDEN}
    assert hide_ids(document, frozenset()) == document


def test_the_ids_of_linked_companies_may_stay() -> None:
    """Outside a URL, an id in `keep` (a company known to be Linked) is left for operators."""
    shown = hide(f"restore the tag on company {CID}; duplicate of {CONN}", keep={CID})
    assert shown == f"restore the tag on company {CID}; duplicate of {ID_HIDDEN}"
    assert hide(f"https://link.codat.io/company/{CID}", keep={CID}) == LINK_HIDDEN
