"""An httpx client for the parts of Codat's API this tool uses. It knows nothing of plans."""

from reconcile.codat.answers import UnexpectedAnswer as UnexpectedAnswer
from reconcile.codat.answers import json_or_none as json_or_none
from reconcile.codat.client import DEFAULT_BASE_URL as DEFAULT_BASE_URL
from reconcile.codat.client import ClientSettings as ClientSettings
from reconcile.codat.client import CodatClient as CodatClient
from reconcile.codat.errors import CodatError as CodatError
from reconcile.codat.errors import CodatHTTPError as CodatHTTPError
from reconcile.codat.errors import CodatTransportError as CodatTransportError
from reconcile.codat.errors import ConfigError as ConfigError
from reconcile.codat.errors import DeadlineExceeded as DeadlineExceeded
from reconcile.codat.errors import QuotaExhausted as QuotaExhausted
from reconcile.codat.errors import WrongAccount as WrongAccount
