"""Typed errors. They carry Codat's correlationId and never the API key."""

from __future__ import annotations

from typing import Any


class CodatError(Exception):
    """Anything that went wrong talking to Codat."""


class ConfigError(CodatError):
    """The client cannot be set up (no key, an unsafe base URL...)."""


class CodatTransportError(CodatError):
    """No HTTP answer: timeout, refused or dropped connection. The request may have been applied."""

    def __init__(self, method: str, path: str, cause: str) -> None:
        super().__init__(f"{method} {path}: no response from Codat ({cause})")
        self.method = method
        self.path = path
        self.cause = cause


class CodatHTTPError(CodatError):
    """Codat answered with an error status and (usually) its ErrorMessage body."""

    def __init__(self, method: str, path: str, status: int, body: Any) -> None:
        self.method = method
        self.path = path
        self.status = status
        self.body = body if isinstance(body, dict) else {}
        self.error = str(self.body.get("error") or f"HTTP {status}")
        self.correlation_id: str | None = self.body.get("correlationId")
        detail = _validation_detail(self.body)
        suffix = f" (correlationId {self.correlation_id})" if self.correlation_id else ""
        super().__init__(f"{method} {path}: {status} {self.error}{detail}{suffix}")


def _validation_detail(body: dict[str, Any]) -> str:
    validation = body.get("validation") or {}
    errors = validation.get("errors") or [] if isinstance(validation, dict) else []
    messages = [str(e.get("message")) for e in errors if isinstance(e, dict) and e.get("message")]
    return f": {'; '.join(messages)}" if messages else ""
