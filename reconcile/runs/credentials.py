"""Where Codat is and with which key, from the environment (the key never leaves this process).

`CODAT_API_KEY` holds the key, or `CODAT_API_KEY_FILE` names a file holding it (CI secret stores
and orchestrators mount secrets as files); setting both is an error, as the run could not tell
which one was meant. `CODAT_BASE_URL` defaults to Codat's production API.
"""

from __future__ import annotations

import os

from reconcile.codat import DEFAULT_BASE_URL, ConfigError
from reconcile.escape import quoted


def api_key_from_env(variable: str = "CODAT_API_KEY", environment: str | None = None) -> str:
    """The API key in `variable` or the file `variable`_FILE names ("" when neither is set and
    no environment is named: the client then says how to set one)."""
    file_variable = f"{variable}_FILE"
    inline = os.environ.get(variable, "")
    named = os.environ.get(file_variable, "")
    if inline and named:
        raise ConfigError(f"both {variable} and {file_variable} are set; set only one of them")
    if not inline and not named and environment is not None:
        raise ConfigError(
            f"no Codat API key for environment {environment}: set {variable} (or {file_variable})"
            " to that account's key (or use --sandbox)"
        )
    if not named:
        return inline
    try:
        with open(named, encoding="utf-8") as handle:
            content = handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ConfigError(
            f"{file_variable} names {quoted(named)}, which cannot be read ({why})"
        ) from None
    key = content.rstrip("\r\n")
    if not key:
        raise ConfigError(f"{file_variable} names {quoted(named)}, which is empty")
    return key


def base_url_from_env() -> str:
    return os.environ.get("CODAT_BASE_URL") or DEFAULT_BASE_URL
