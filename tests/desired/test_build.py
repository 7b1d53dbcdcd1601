"""What the built model keeps of the files' data (`reconcile.desired.build`)."""

from __future__ import annotations

from reconcile.desired.build import Own


def test_own_copies_every_string_kept_and_shares_tag_strings() -> None:
    """With `release`, the model holds none of the data's strings, so the data's memory goes
    back whole once it is dropped; tag names and values are one string each."""
    uid, region = "".join(["cus-", "1"]), "".join(["f", "r"])
    raw = {"uid": uid, "tags": {"region": region}, "environments": ["".join(["te", "st"])]}
    own = Own()
    first, second = own.customer(raw), own.customer({**raw, "tags": {"region": "".join("fr")}})
    assert first == raw and second == raw
    assert first["uid"] is not uid and first["environments"][0] is not raw["environments"][0]
    assert first["tags"]["region"] is not region
    assert first["tags"]["region"] is second["tags"]["region"]
    assert next(iter(first["tags"])) is next(iter(second["tags"]))
