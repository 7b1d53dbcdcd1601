"""An httpx client for the parts of Codat's API this tool uses. It knows nothing of plans."""

from reconcile.codat.answers import UnexpectedAnswer, json_or_none
from reconcile.codat.client import DEFAULT_BASE_URL, ClientSettings, CodatClient
from reconcile.codat.errors import (
    CodatError,
    CodatHTTPError,
    CodatTransportError,
    ConfigError,
    DeadlineExceeded,
    QuotaExhausted,
    WrongAccount,
)

__all__ = [
    "DEFAULT_BASE_URL",
    "ClientSettings",
    "CodatClient",
    "CodatError",
    "CodatHTTPError",
    "CodatTransportError",
    "ConfigError",
    "DeadlineExceeded",
    "QuotaExhausted",
    "UnexpectedAnswer",
    "WrongAccount",
    "json_or_none",
]
