"""A resync's listing change: what the fingerprint of a listed company holds, and what not."""

from __future__ import annotations

from dataclasses import replace

from reconcile.model import ConnectionError_
from reconcile.watch.resync import fingerprint
from tests.support.factories import company, conn


def test_a_change_the_planner_sees_changes_the_fingerprint_a_new_link_url_does_not() -> None:
    pending = conn("a1", "PendingAuth")
    listed = company("cus-1", pending)
    same = fingerprint(listed)
    assert fingerprint(replace(listed, tags=dict(reversed(list(listed.tags.items()))))) == same
    new_link = replace(pending, link_url="https://link.example/another-one-time-url")
    assert fingerprint(replace(listed, connections=(new_link,))) == same
    error = ConnectionError_("401", "Unauthorized", "Token expired", "2026-12-01T00:00:00Z")
    for changed in (
        replace(listed, name="Renamed"),
        replace(listed, tags={**listed.tags, "team": "b"}),
        replace(listed, connections=(replace(pending, status="Linked"),)),
        replace(listed, connections=(replace(pending, errors=(error,)),)),
        replace(listed, connections=(pending, conn("e1", "Linked", "expn"))),
    ):
        assert fingerprint(changed) != same, changed
