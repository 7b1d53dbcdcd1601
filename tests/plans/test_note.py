"""A plan's `Note` without its Link URL: every other field kept, whatever fields it gains."""

from __future__ import annotations

import dataclasses

from reconcile.plans import Note


def test_a_note_without_its_link_keeps_every_other_field() -> None:
    given = {f.name: f"{f.name}-value" for f in dataclasses.fields(Note)}  # none at its default
    note = Note(**given)  # type: ignore[arg-type]
    assert note.without_link() == dataclasses.replace(note, link_url=None)
    assert note.without_link().link_url is None and note.link_url == "link_url-value"
