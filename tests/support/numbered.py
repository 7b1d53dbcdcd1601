"""Hand-built models of a numbered fleet (the audit's and export's pure tests): company `n` has
a UUID-shaped id as Codat's do, and connection `n` another."""

from __future__ import annotations

from reconcile.model import Company, Connection, ConnectionError_
from tests.support import factories


def cid(n: int) -> str:
    """The id of company `n` (connection `n` is `cid(1000 + n)`)."""
    return f"00000000-0000-4000-8000-{n:012d}"


def conn(
    n: int,
    status: str,
    key: str | None = "gbol",
    name: str | None = None,
    *,
    source_type: str | None = None,
    created: str | None = None,
    errors: tuple[ConnectionError_, ...] = (),
) -> Connection:
    """Connection `n` to platform `key` (Xero by default), created on day `n` of November 2026
    unless `created` says when."""
    return factories.conn(
        cid(1000 + n),
        status,
        key,
        name,
        source_type,
        created=created or f"2026-11-{n % 28 + 1:02d}T00:00:00Z",
        errors=errors,
        link_url=f"https://link.example/{n}",
        default_platform="gbol",
    )


def company(
    n: int,
    name: str,
    tags: dict[str, str],
    *conns: Connection,
    description: str | None = None,
    created: str | None = None,
) -> Company:
    """Company `n` with exactly `tags` and `conns`."""
    return Company(cid(n), name, description, tags, conns, created)
