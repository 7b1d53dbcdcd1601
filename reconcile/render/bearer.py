"""Bearer links kept out of shared outputs.

Codat's company `redirect` is `https://link.codat.io/company/{companyId}`: the id of a company
that no accounting platform is linked to yet is itself a Link URL (anyone holding it can link a
platform to that company), and a connection's `linkUrl` is one too. Codat's one-time Link URLs,
when enabled, also expire after a day and work once: a copy in a log or a comment spends the
customer's link. So what many people read (a pull-request comment, an issue, a CI log, the
watch's /status and log lines, apply's standard output by default) shows neither: a customer's
uid identifies it; a terminal or a log may show the ids of companies known to be Linked
(`Plan.linked`), which operators need. The links go only where their owner reads them
(`--link-urls-out FILE`, mode 0600, or `--link-urls` on a terminal).

`hide(value)` is the last line of defence for free text (a reason, a warning, Codat's error
message): every URL that holds an id or points at a Link host, and every id (Codat's ids are
UUIDs), is replaced by a placeholder. Renderers also leave the structured ids out themselves.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Set as AbstractSet

ID_HIDDEN = "(id hidden)"
LINK_HIDDEN = "(Link URL hidden)"

_ID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
ID_PATTERN = re.compile(_ID)
_URL = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://[^\s<>\"'`]+")
_LINK_HOST = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://(?:[^/@]*@)?link[.-]", re.IGNORECASE)


def _url(match: re.Match[str]) -> str:
    url = match.group()
    if ID_PATTERN.search(url) or _LINK_HOST.match(url) or "/link/" in url:
        return LINK_HIDDEN
    return url


def hide(value: object, keep: AbstractSet[str] = frozenset()) -> str:
    """`value` as a string with every Link URL and every id replaced by a placeholder, but for
    the ids in `keep` (companies known to be Linked: `Plan.linked`), outside URLs."""
    s = str(value)
    if "-" not in s and "://" not in s:  # an id has dashes; the common case, fast
        return s
    if "://" in s:
        s = _URL.sub(_url, s)
    if keep:
        return ID_PATTERN.sub(lambda m: m.group() if m.group() in keep else ID_HIDDEN, s)
    return ID_PATTERN.sub(ID_HIDDEN, s)


def hide_ids(document: str, ids: frozenset[str]) -> str:
    """`document` with these ids, and every URL holding one, replaced by placeholders (for a
    document that keeps other ids). A placeholder holds no quote or backslash: JSON stays JSON."""
    if not ids:
        return document
    found = re.compile("|".join(re.escape(i) for i in sorted(ids, key=len, reverse=True)))

    def url(match: re.Match[str]) -> str:
        return LINK_HIDDEN if found.search(match.group()) else match.group()

    return found.sub(ID_HIDDEN, _URL.sub(url, document))


def hidden_or(value: str | None, show: bool) -> str | None:
    """`value` when `show` (the operator asked, on a terminal or for a private file), else
    None: for the structured fields (a company id, a Link URL) of a JSON document."""
    return value if show else None


class HidingFormatter(logging.Formatter):
    """Log records with Link URLs and ids hidden (`-v`'s request lines name company paths)."""

    def format(self, record: logging.LogRecord) -> str:
        return hide(super().format(record))
