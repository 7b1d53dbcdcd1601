"""The customer's side of Codat Link: the page a `linkUrl` opens.

Owned by the Link-page work; until that lands there are no routes.
"""

from __future__ import annotations

from typing import Any

from starlette.routing import BaseRoute


def link_routes(store: Any) -> list[BaseRoute]:
    return []
