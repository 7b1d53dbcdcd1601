"""An httpx client for the parts of Codat's API this tool uses. It knows nothing of plans."""

from reconcile.codat.client import ClientSettings, CodatClient
from reconcile.codat.errors import CodatError, CodatHTTPError, CodatTransportError, ConfigError

__all__ = [
    "ClientSettings",
    "CodatClient",
    "CodatError",
    "CodatHTTPError",
    "CodatTransportError",
    "ConfigError",
]
