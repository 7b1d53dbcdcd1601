"""Escaping for everything printed that came from the file or from Codat.

A name or a description is data, never layout: it must not add a line to a plan, move the
cursor, set a terminal's clipboard (OSC 52) or close a Markdown block. Every renderer passes such
strings through one of these functions; nothing else decides how they look.
"""

from __future__ import annotations

import re
import unicodedata

# Categories that are not printable as themselves: controls (C0, C1, DEL), format characters
# (bidi overrides, zero-width), line/paragraph separators, surrogates, private use, unassigned.
_UNPRINTABLE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"})
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\\": "\\\\"}


def _visible(char: str) -> str:
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def _needs_escape(char: str) -> bool:
    return (
        char == "\\"
        or unicodedata.category(char) in _UNPRINTABLE_CATEGORIES
        or (unicodedata.category(char) == "Zs" and char != " ")
    )


def text(value: object) -> str:
    """For a terminal or a log: non-printable characters become visible escapes (`\\x1b`,
    `\\n`, `\\u202e`); a backslash is doubled so an escape cannot be forged."""
    s = str(value)
    if s.isprintable() and "\\" not in s and s.isascii():
        return s  # the common case, fast
    return "".join(_visible(c) if _needs_escape(c) else c for c in s)


def quoted(value: object) -> str:
    """A string from the file or Codat in double quotes, escaped (a quote inside is `\\"`)."""
    return '"' + text(value).replace('"', '\\"') + '"'


def _json_escape(match: re.Match[str]) -> str:
    char = match.group()
    if char != "\x7f" and not _needs_escape(char):
        return char
    code = ord(char)
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    high, low = divmod(code - 0x10000, 0x400)
    return f"\\u{0xD800 + high:04x}\\u{0xDC00 + low:04x}"


# `json.dumps` escapes C0 controls itself; DEL and everything beyond ASCII are looked at here
# (written as the complement of the ASCII below DEL: the range up to U+10FFFF took ~4 ms to
# compile, at import).
_JSON_BEYOND_ASCII = re.compile("[^\x00-\x7e]")


def json_text(document: str) -> str:
    """JSON text (from `json.dumps(..., ensure_ascii=False)`) with every character that is not
    printable as itself (DEL, C1 controls, bidi overrides, zero-width and format characters,
    line separators, surrogates, private use, unassigned) written as a `\\uXXXX` escape: the
    same JSON, readable UTF-8 otherwise, and nothing a terminal or a diff viewer acts on. Such
    characters can only be inside strings (JSON's own syntax is ASCII), so escaping them there
    is exact."""
    if document.isascii() and "\x7f" not in document:
        return document
    return _JSON_BEYOND_ASCII.sub(_json_escape, document)


# Characters Markdown (GitHub flavour, with its `$` maths) may read as syntax. `<`, `>` and `&`
# are left to the HTML escaping: `\&gt;` would show as "&gt;".
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~$])")


def markdown(value: object) -> str:
    """Inline Markdown text from the file or Codat: escaped for Markdown and for HTML (GitHub
    renders inline HTML), on one line, so it can neither inject a tag nor break a table or a
    `<details>` block. Markdown escapes come first, so the HTML entities (`&lt;`, `&#x27;`)
    are not broken by a backslash. `@` is followed by a zero-width space (`no_mention`): a
    customer named `Acme @team` must not notify a GitHub team from the bot's comment."""
    import html  # and html.entities: only Markdown and HTML need them, not a terminal

    return no_mention(html.escape(_MD_SPECIAL.sub(r"\\\1", text(value)), quote=True))


def html_text(value: object) -> str:
    """Text inside raw HTML (a `<summary>`, where Markdown is not read): visible escapes,
    then HTML entities, on one line; `@` broken by a zero-width space (no GitHub mention)."""
    import html

    return no_mention(html.escape(text(value), quote=True))


# After `@`, a ZERO WIDTH SPACE: GitHub finds mentions after decoding entities (so `&#64;`
# still notifies), but `@\u200bteam` names nobody. Renovate and Dependabot do the same.
MENTION_BREAK = "\u200b"


def no_mention(escaped: str) -> str:
    """Escaped text in which no `@` can start a GitHub or GitLab mention."""
    return escaped.replace("@", "@" + MENTION_BREAK)


def code(value: object) -> str:
    """Text for inside a fenced code block (```diff): one line, no fence can be closed.

    Inside a fence Markdown is not interpreted, but a line starting with ``` would end it and
    GitHub still closes `<details>` on a raw `</details>`; backticks and `<` are replaced by
    look-alikes that cannot act (U+02CB, U+2039) after the visible escaping of `text`."""
    return text(value).replace("`", "\u02cb").replace("<", "\u2039")
