from __future__ import annotations

from reconcile.model import PLATFORMS_BY_KEY, Platform, resolve_platform


def test_a_label_names_the_platform_and_its_key_once_for_every_note() -> None:
    """30,000 notes of a 100,000-customer plan carry a platform's label: one string each."""
    xero = PLATFORMS_BY_KEY["gbol"]
    assert xero.label == "Xero (gbol)"
    assert xero.label is resolve_platform("xero").label  # type: ignore[union-attr]
    other = Platform("zzzz", "Somewhere Else", ())
    assert other.label == "Somewhere Else (zzzz)"
    assert other.label is Platform("zzzz", "Somewhere Else", ("else",)).label
