"""Codat's ErrorMessage body, used for every error the sandbox answers."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from starlette.responses import Response

SERVICE: str = "PublicApi"
QUERY_SERVICE: str = "ClientsApi"
_RETRYABLE = frozenset({408, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class ValidationItem:
    """One entry of `validation.errors`: what was wrong and where."""

    item_id: str | None
    message: str
    validator_name: str = "SandboxValidator"

    def to_wire(self) -> dict[str, str | None]:
        return {
            "itemId": self.item_id,
            "message": self.message,
            "validatorName": self.validator_name,
        }


@dataclass
class ApiError(Exception):
    """Raised by route handlers; rendered by the app as an ErrorMessage response."""

    status: int
    message: str
    service: str = SERVICE
    validation: Sequence[ValidationItem] = field(default_factory=tuple)
    headers: Mapping[str, str] | None = None

    def __str__(self) -> str:
        return f"{self.status} {self.message}"


def error_body(
    status: int,
    message: str,
    *,
    service: str = SERVICE,
    validation: Sequence[ValidationItem] | Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "statusCode": status,
        "service": service,
        "error": message,
        "correlationId": uuid.uuid4().hex,
        "canBeRetried": "True" if status in _RETRYABLE else "False",
        "detailedErrorCode": 0,
    }
    if isinstance(validation, Mapping):
        body["validation"] = dict(validation)
    elif validation:
        body["validation"] = {"errors": [item.to_wire() for item in validation], "warnings": []}
    return body


def error_response(
    status: int,
    message: str,
    *,
    service: str = SERVICE,
    validation: Sequence[ValidationItem] | Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """An ErrorMessage response with a fresh correlation id."""
    body = error_body(status, message, service=service, validation=validation)
    return Response(
        json.dumps(body), status_code=status, headers=headers, media_type="application/json"
    )


def api_error_response(error: ApiError) -> Response:
    return error_response(
        error.status,
        error.message,
        service=error.service,
        validation=error.validation,
        headers=error.headers,
    )
