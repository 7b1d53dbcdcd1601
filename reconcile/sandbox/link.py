"""The customer's side of Codat Link: the pages a `linkUrl` and a company `redirect` open.

- `GET  /link/companies/{companyId}`: the company's connections, each linking to its page.
- `GET  /link/companies/{companyId}/connections/{connectionId}/start`: one connection, with the
  customer's choices as buttons (plain HTML forms, no script, no external assets).
- `POST .../authorize`: PendingAuth -> Linked (the customer signed in to the platform).
- `POST .../deny`: the customer cancelled; like Codat, the connection stays PendingAuth and its
  `linkUrl` can be opened again later.
- `POST .../revoke`: Linked -> Deauthorized (the customer revoked access at the platform).
- `POST .../reauthorize`: Deauthorized -> Linked (the customer signs in again, as Codat's Link
  offers for a deauthorized connection).

With one-time Link URLs (`sandbox serve --one-time-links`, reconcile/sandbox/onetime.py) a
connection's page opens only through a fresh ticket (once, within a day) or the session cookie
that ticket set; an old or used link answers 410.

Every POST answers 303 back to the connection's page (post/redirect/get), whose `outcome`
query parameter names what happened. A choice the current status does not offer (e.g. revoking a
PendingAuth connection, or a stale page) answers 409 with a page explaining why; unknown ids 404.
No Basic auth: these pages belong to the customer, not to the API caller.

Only the page itself can make those choices (a page on another site must not authorize or revoke
a connection behind the customer's back):
- each form carries a per-page token, an HMAC of the company and connection ids under a secret
  kept in the sandbox's SQLite file (so every process serving the file accepts it); a POST
  without the right token answers 403;
- a POST whose `Origin` is another origin, or that the browser marks `Sec-Fetch-Site:
  cross-site`, answers 403 too;
- every page is sent with `X-Frame-Options: DENY` and a Content-Security-Policy that forbids
  framing, scripts and form targets elsewhere (no clickjacking).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Final
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from reconcile.sandbox.api.common import call
from reconcile.sandbox.layers.common import LayerDB
from reconcile.sandbox.onetime import (
    SESSION_COOKIE,
    SESSION_SECONDS,
    TICKET_PARAM,
    OneTimeLinks,
)
from reconcile.sandbox.registry import DEAUTHORIZED, LINKED, PENDING_AUTH, UNLINKED

if TYPE_CHECKING:
    from reconcile.sandbox.store import Store, Wire

PREFIX: Final = "/link/companies"
TOKEN_FIELD: Final = "token"
MAX_FORM_BYTES: Final = 4096
SECURITY_HEADERS: Final = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
_SECRET_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS sandbox_link_secret (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    secret TEXT NOT NULL
)
"""
# action -> (the status it applies to, the status it leaves, the outcome shown afterwards)
ACTIONS: Final = {
    "authorize": (PENDING_AUTH, LINKED, "authorized"),
    "deny": (PENDING_AUTH, PENDING_AUTH, "denied"),
    "revoke": (LINKED, DEAUTHORIZED, "revoked"),
    "reauthorize": (DEAUTHORIZED, LINKED, "reauthorized"),
}
OUTCOMES: Final = {
    "authorized": "Access granted: the connection is now linked.",
    "denied": "Access was not granted. The connection is still waiting for authorization; "
    "you can come back to this page at any time.",
    "revoked": "Access revoked: the connection is now deauthorized.",
    "reauthorized": "Access granted again: the connection is linked once more.",
}
LINK_REFUSALS: Final = {
    "unknown": "This link is not valid for this connection.",
    "used": "This link was already used: each link works once.",
    "expired": "This link has expired: links work for a day.",
    "missing": "This page opens only through the link you were sent.",
}
STATUS_TEXT: Final = {
    PENDING_AUTH: "Waiting for authorization",
    LINKED: "Linked",
    UNLINKED: "Unlinked",
    DEAUTHORIZED: "Deauthorized",
}
BUTTONS: Final = {
    PENDING_AUTH: (("authorize", "Authorize", "primary"), ("deny", "Deny", "secondary")),
    LINKED: (("revoke", "Revoke access", "danger"),),
    DEAUTHORIZED: (("reauthorize", "Re-authorize", "primary"),),
}

_CSS: Final = """
:root { color-scheme: light; font-family: system-ui, -apple-system, "Segoe UI", sans-serif; }
body { margin: 0; background: #f4f5f7; color: #1b1f24; line-height: 1.5; }
main { max-width: 34rem; margin: 3rem auto; padding: 2rem; background: #fff;
       border: 1px solid #d0d4da; border-radius: 8px; }
h1 { font-size: 1.5rem; margin: 0 0 1rem; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; margin: 0 0 1.5rem; }
dt { font-weight: 600; } dd { margin: 0; }
.status { display: inline-block; padding: 0 .5rem; border-radius: 4px; background: #e7eaee; }
.status-Linked { background: #d3f2dc; color: #0b5a26; }
.status-PendingAuth { background: #fff1c2; color: #5c4400; }
.status-Deauthorized, .status-Unlinked { background: #f8d7da; color: #7a1620; }
.notice { padding: .75rem 1rem; border-left: 4px solid #3558d8; background: #eef2fd; }
form { display: inline; }
.actions { display: flex; gap: .75rem; flex-wrap: wrap; }
button { font: inherit; padding: .5rem 1.25rem; border-radius: 6px; cursor: pointer;
         border: 1px solid transparent; }
button:focus-visible, a:focus-visible { outline: 3px solid #3558d8; outline-offset: 2px; }
.primary { background: #1f48c9; color: #fff; }
.secondary { background: #fff; color: #1b1f24; border-color: #6b7380; }
.danger { background: #b3261e; color: #fff; }
a { color: #1f48c9; }
ul { padding-left: 1.25rem; }
"""


def _page(title: str, body: str, status_code: int = 200) -> HTMLResponse:
    html = (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)} - Codat Link (sandbox)</title>\n<style>{_CSS}</style>\n"
        f"</head>\n<body>\n<main>\n{body}\n</main>\n</body>\n</html>\n"
    )
    return HTMLResponse(html, status_code=status_code, headers=SECURITY_HEADERS)


class PageTokens:
    """Per-page tokens: HMAC-SHA256 of the ids under a secret shared through the SQLite file."""

    def __init__(self, db_path: Path) -> None:
        self._db = LayerDB(db_path, _SECRET_SCHEMA)
        self._secret: bytes | None = None

    @property
    def secret(self) -> bytes:
        if self._secret is None:
            conn = self._db.conn
            conn.execute(
                "INSERT OR IGNORE INTO sandbox_link_secret (id, secret) VALUES (1, ?)",
                (secrets.token_hex(32),),
            )
            row = conn.execute("SELECT secret FROM sandbox_link_secret WHERE id = 1").fetchone()
            self._secret = bytes.fromhex(str(row[0]))
        return self._secret

    def token(self, company_id: str, connection_id: str) -> str:
        message = f"{company_id}/{connection_id}".encode()
        return hmac.new(self.secret, message, hashlib.sha256).hexdigest()

    def valid(self, company_id: str, connection_id: str, token: str | None) -> bool:
        expected = self.token(company_id, connection_id)
        return token is not None and hmac.compare_digest(expected, token)


def _same_origin(request: Request) -> bool:
    """False when the browser says the request came from another site."""
    if request.headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
        return False
    origin = request.headers.get("origin")
    if origin is None:
        return True
    own = f"{request.url.scheme}://{request.headers.get('host', '')}"
    return origin.casefold() == own.casefold()


async def _form_token(request: Request) -> str | None:
    """The token field of a small urlencoded form body (a bigger body has no valid token)."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            return None
    values = parse_qs(body.decode("latin-1")).get(TOKEN_FIELD)
    return values[0] if values else None


def _not_found(what: str) -> HTMLResponse:
    return _page(
        "Not found",
        f"<h1>Not found</h1>\n<p>{escape(what)} does not exist, or was deleted.</p>",
        404,
    )


def _connection_url(company_id: str, connection_id: str) -> str:
    return f"{PREFIX}/{company_id}/connections/{connection_id}/start"


def _status_badge(status: str) -> str:
    return (
        f'<span class="status status-{escape(status)}" data-status="{escape(status)}">'
        f"{escape(STATUS_TEXT.get(status, status))}</span>"
    )


def _connection_page(
    company: Wire, connection: Wire, outcome: str | None, token: str
) -> HTMLResponse:
    platform = str(connection.get("platformName", ""))
    status = str(connection["status"])
    parts = [f"<h1>Connect {escape(platform)}</h1>"]
    if outcome in OUTCOMES:
        parts.append(f'<p class="notice" role="status">{escape(OUTCOMES[outcome])}</p>')
    parts.append(
        "<dl>"
        f"<dt>Company</dt><dd>{escape(str(company['name']))}</dd>"
        f"<dt>Platform</dt><dd>{escape(platform)}</dd>"
        f'<dt>Status</dt><dd id="status">{_status_badge(status)}</dd>'
        "</dl>"
    )
    buttons = BUTTONS.get(status, ())
    if buttons:
        base = f"{PREFIX}/{company['id']}/connections/{connection['id']}"
        hidden = f'<input type="hidden" name="{TOKEN_FIELD}" value="{escape(token)}">'
        forms = "".join(
            f'<form method="post" action="{escape(base)}/{action}">{hidden}'
            f'<button type="submit" class="{css}" name="action" value="{action}">'
            f"{label}</button></form>"
            for action, label, css in buttons
        )
        if status == PENDING_AUTH:
            parts.append(
                f"<p>{escape(str(company['name']))} asks for access to your "
                f"{escape(platform)} data.</p>"
            )
        elif status == DEAUTHORIZED:
            parts.append(
                f"<p>Access to your {escape(platform)} data was revoked. "
                f"{escape(str(company['name']))} asks for it again: sign in to "
                f"{escape(platform)} to re-authorize.</p>"
            )
        parts.append(f'<div class="actions">{forms}</div>')
    else:
        parts.append("<p>There is nothing to do for this connection.</p>")
    parts.append(
        f'<p><a href="{PREFIX}/{escape(str(company["id"]))}">All connections of '
        f"{escape(str(company['name']))}</a></p>"
    )
    return _page(f"Connect {platform}", "\n".join(parts))


def _forbidden(back: str) -> HTMLResponse:
    return _page(
        "Not allowed",
        "<h1>Not allowed</h1>\n<p>This request did not come from the connection's own page. "
        "Open the page and choose again.</p>\n"
        f'<p><a href="{escape(back)}">Back to the connection</a></p>',
        403,
    )


def _link_refused(reason: str) -> HTMLResponse:
    return _page(
        "Link not valid",
        "<h1>This link cannot be used</h1>\n"
        f"<p>{escape(LINK_REFUSALS.get(reason, LINK_REFUSALS['unknown']))} Ask the company "
        "that sent it for a fresh link.</p>",
        410,
    )


def link_routes(store: Store, one_time: OneTimeLinks | None = None) -> list[BaseRoute]:
    tokens = PageTokens(store.db_path)

    def session_ok(request: Request, company_id: str, connection_id: str) -> bool:
        return one_time is None or one_time.session(
            company_id, connection_id, request.cookies.get(SESSION_COOKIE)
        )

    def lookup(request: Request) -> tuple[Wire, Wire] | HTMLResponse:
        company_id = request.path_params["company_id"]
        connection_id = request.path_params["connection_id"]
        company = store.get_company(company_id)
        if company is None:
            return _not_found("This company")
        connection = store.get_connection(company_id, connection_id)
        if connection is None:
            return _not_found("This connection")
        return company, connection

    async def company_page(request: Request) -> Response:
        company = store.get_company(request.path_params["company_id"])
        if company is None:
            return _not_found("This company")
        connections = list(company.get("dataConnections", []))
        if connections:
            items = "".join(
                f'<li><a href="{escape(_connection_url(company["id"], c["id"]))}">'
                f"{escape(str(c.get('platformName', c['id'])))}</a> "
                f"{_status_badge(str(c['status']))}</li>"
                for c in connections
            )
            listing = f"<ul>{items}</ul>"
        else:
            listing = "<p>This company has no connections yet.</p>"
        name = str(company["name"])
        return _page(name, f"<h1>{escape(name)}</h1>\n<h2>Connections</h2>\n{listing}")

    async def connection_page(request: Request) -> Response:
        found = lookup(request)
        if isinstance(found, HTMLResponse):
            return found
        company, connection = found
        if one_time is not None:
            ticket = request.query_params.get(TICKET_PARAM)
            if ticket:  # a fresh link: used up now; its session opens the page and its choices
                refusal = await one_time.redeem(company["id"], connection["id"], ticket)
                if refusal is not None:
                    return _link_refused(refusal)
                base = _connection_url(company["id"], connection["id"])
                answer = RedirectResponse(base, status_code=303, headers=SECURITY_HEADERS)
                answer.set_cookie(
                    SESSION_COOKIE,
                    ticket,
                    max_age=int(SESSION_SECONDS),
                    path=base.removesuffix("/start"),
                    httponly=True,
                    samesite="strict",
                )
                return answer
            if not session_ok(request, company["id"], connection["id"]):
                return _link_refused("missing")
        token = tokens.token(company["id"], connection["id"])
        return _connection_page(company, connection, request.query_params.get("outcome"), token)

    async def act(request: Request, action: str) -> Response:
        found = lookup(request)
        if isinstance(found, HTMLResponse):
            return found
        company, connection = found
        back = _connection_url(company["id"], connection["id"])
        if (
            not _same_origin(request)
            or not session_ok(request, company["id"], connection["id"])
            or not tokens.valid(company["id"], connection["id"], await _form_token(request))
        ):
            return _forbidden(back)
        applies_to, becomes, outcome = ACTIONS[action]
        if connection["status"] != applies_to:
            return _page(
                "Not possible",
                "<h1>Not possible</h1>\n"
                f"<p>This connection is {_status_badge(str(connection['status']))}; "
                f"that choice is only offered while it is "
                f"{escape(STATUS_TEXT[applies_to].lower())}.</p>\n"
                f'<p><a href="{escape(back)}">Back to the connection</a></p>',
                409,
            )
        if becomes != connection["status"]:
            await call(store.set_connection_status, company["id"], connection["id"], becomes)
        return RedirectResponse(f"{back}?outcome={outcome}", status_code=303)

    def endpoint(action: str) -> Callable[[Request], Awaitable[Response]]:
        async def handle(request: Request) -> Response:
            return await act(request, action)

        return handle

    connection_path = PREFIX + "/{company_id}/connections/{connection_id}"
    return [
        Route(PREFIX + "/{company_id}", company_page, methods=["GET"]),
        Route(connection_path + "/start", connection_page, methods=["GET"]),
        *(
            Route(f"{connection_path}/{action}", endpoint(action), methods=["POST"])
            for action in ACTIONS
        ),
    ]
