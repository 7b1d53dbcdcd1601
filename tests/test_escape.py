"""The escaping functions: data never becomes layout, in a terminal or in Markdown/HTML."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconcile.escape import code, html_text, markdown, quoted, text
from tests.render.plans import HOSTILE


def test_text_makes_every_control_visible() -> None:
    assert text("a\nb") == "a\\nb"
    assert text("\x1b]52;c;x\x07") == "\\x1b]52;c;x\\x07"
    assert text("\u202e") == "\\u202e"
    assert text("C:\\new") == "C:\\\\new"  # a literal backslash cannot forge an escape
    assert quoted('say "hi"') == '"say \\"hi\\""'


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_strings_become_one_visible_line(value: str) -> None:
    out = text(value)
    assert "\x1b" not in out and "\n" not in out and out.isprintable()


@given(st.text())
def test_text_output_is_one_printable_line(value: str) -> None:
    out = text(value)
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in out)


def test_markdown_escapes_markdown_and_html_without_breaking_entities() -> None:
    assert markdown("<img src=x>") == "&lt;img src=x&gt;"
    assert markdown("O'Neil & Co") == "O&#x27;Neil &amp; Co"  # entity intact, no `\#`
    assert markdown("a|b `c` *d* [e](f) $x$") == ("a\\|b \\`c\\` \\*d\\* \\[e\\]\\(f\\) \\$x\\$")
    assert markdown("</details>\nx") == "&lt;/details&gt;\\\\nx"


@given(st.text())
def test_markdown_and_html_hold_no_tag_no_line_no_live_backtick(value: str) -> None:
    for out in (markdown(value), html_text(value)):
        assert "<" not in out and ">" not in out and "\n" not in out
    live = re.sub(r"\\.", "", markdown(value))  # what is left once each escape pair is gone
    assert not set(live) & set("`|*_[]$~\\")


@given(st.text())
def test_code_cannot_close_a_fence_or_a_details_block(value: str) -> None:
    out = code(value)
    assert "`" not in out and "<" not in out and "\n" not in out


def test_markdown_and_html_never_mention_anyone() -> None:
    """A customer named `Acme @team` must not notify a GitHub team from a PR comment."""
    for render in (markdown, html_text):
        out = render("Acme @team & @org/people")
        assert "@\u200bteam" in out and "@\u200borg/people" in out
        assert not re.search(r"@(?!\u200b)", out) and "&#64;" not in out
