"""`GET /profile`: the Codat account (client instance) the API key belongs to.

Codat-Platform.json's `Profile` requires `name` and `redirectUrl`. The name is the sandbox's
`account_name` option (`sandbox serve --account-name`), so tests can stand up two accounts
that differ as a test and a production account do.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from reconcile.sandbox.api.common import base_url, json_response
from reconcile.sandbox.options import SandboxOptions


async def get_profile(request: Request) -> Response:
    options: SandboxOptions = request.app.state.options
    return json_response(
        {
            "name": options.account_name,
            "redirectUrl": f"{base_url(request)}/link/done/{{companyId}}",
            "whiteListUrls": [],
        }
    )
