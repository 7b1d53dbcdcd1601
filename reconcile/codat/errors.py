"""Typed errors. They carry Codat's correlationId and never the API key.

Every message is one line a person can act on. What Codat put in an error body is escaped and
shortened here (a hostile body can neither add lines nor flood the terminal).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

KEY_HINT = "check CODAT_API_KEY (or the file CODAT_API_KEY_FILE names): Codat did not accept it"
MAX_DETAIL = 300


class CodatError(Exception):
    """Anything that went wrong talking to Codat."""


class ConfigError(CodatError):
    """The client cannot be set up (no key, an unsafe base URL...)."""


class WrongAccount(CodatError):
    """The API key belongs to another Codat account than the run names (`GET /profile`)."""

    def __init__(self, got: str, expected: str, label: str) -> None:
        super().__init__(
            f"the API key belongs to the Codat account {got}, but {label} is the account"
            f" {expected}: nothing was read or written. Use that account's key, or fix the"
            " environment's 'account:' in the file"
        )
        self.got = got
        self.expected = expected


class _RequestFailed(CodatError):
    """An error about one request, named by its method and path at the start of the message."""

    def __init__(self, method: str, path: str, message: str) -> None:
        super().__init__(f"{method} {path}: {message}")
        self.method = method
        self.path = path


class CodatTransportError(_RequestFailed):
    """No HTTP answer: timeout, refused or dropped connection. The request may have been applied."""

    def __init__(
        self,
        method: str,
        path: str,
        cause: str,
        *,
        base_url: str | None = None,
        attempts: int = 1,
        elapsed: float | None = None,
    ) -> None:
        where = f" at {base_url}" if base_url else ""
        tries = f"{attempts} attempt{'s' if attempts != 1 else ''}"
        over = f" over {elapsed:.1f} s" if elapsed is not None else ""
        super().__init__(
            method,
            path,
            f"no response from Codat{where} after {tries}{over} ({cause}); "
            "is CODAT_BASE_URL right and is the network up?",
        )
        self.cause = cause
        self.base_url = base_url
        self.attempts = attempts
        self.elapsed = elapsed


class DeadlineExceeded(_RequestFailed):
    """The command's overall deadline (`--timeout`) passed: Codat answered too slowly in all
    (a slow drip of bytes defeats a per-read timeout, never this one). The request may have been
    applied."""

    def __init__(self, method: str, path: str, deadline: float, *, pace: int | None = None) -> None:
        why = (
            "Codat answered too slowly; try again later or raise --timeout"
            if pace is None  # else the pacer would have started it only after the deadline
            else f"its turn at {pace:,} requests a minute (--requests-per-minute) came after "
            "it, so it was not sent; raise --timeout"
        )
        super().__init__(
            method,
            path,
            f"gave up at the deadline of {deadline:g} s for the whole command (--timeout): {why}",
        )
        self.deadline = deadline


class CodatHTTPError(CodatError):
    """Codat answered with an error status and (usually) its ErrorMessage body."""

    def __init__(self, method: str, path: str, status: int, body: Any) -> None:
        self.method = method
        self.path = path
        self.status = status
        self.body = body if isinstance(body, dict) else {}
        error = self.body.get("error")
        self.error = clean(error) if isinstance(error, str) and error else f"HTTP {status}"
        correlation = self.body.get("correlationId")
        self.correlation_id: str | None = (
            clean(correlation, 80) if isinstance(correlation, str) and correlation else None
        )
        super().__init__(self._message())

    def _message(self) -> str:
        detail = _validation_detail(self.body)
        hint = f"; {KEY_HINT}" if self.status == 401 else ""
        suffix = f" (correlationId {self.correlation_id})" if self.correlation_id else ""
        return f"{self.method} {self.path}: {self.status} {self.error}{detail}{hint}{suffix}"


class QuotaExhausted(CodatHTTPError):
    """A 429 that waiting a little will not cure: the daily quota is used up (or Codat asks to
    wait longer than the retry budget). Raised at once, without retrying."""

    def __init__(
        self,
        method: str,
        path: str,
        body: Any,
        *,
        limit: int | None,
        resets_at: datetime | None,
    ) -> None:
        self.limit = limit
        self.resets_at = resets_at
        super().__init__(method, path, 429, body)

    def _message(self) -> str:
        quota = (
            f"Codat's daily quota of {self.limit} requests"
            if self.limit is not None
            else "Codat's daily quota"
        )
        when = ""
        if self.resets_at is not None:
            utc = self.resets_at.astimezone(UTC)
            local = self.resets_at.astimezone()
            when = f"; it resets at {utc:%Y-%m-%d %H:%M} UTC ({local:%Y-%m-%d %H:%M} local time)"
        suffix = f" (correlationId {self.correlation_id})" if self.correlation_id else ""
        return f"{self.method} {self.path}: 429 {quota} is used up{when}{suffix}"


def clean(value: str, limit: int = MAX_DETAIL) -> str:
    """Text from an answer, for a one-line message: non-printable characters escaped
    (`\\n`, `\\x1b`), backslashes doubled, at most `limit` characters."""
    if len(value) > limit:
        value = value[: limit - 3] + "..."
    if value.isprintable() and "\\" not in value:
        return value
    return "".join(c if c.isprintable() and c != "\\" else _escape(c) for c in value)


def _escape(char: str) -> str:
    return "\\\\" if char == "\\" else repr(char)[1:-1]


def _validation_detail(body: dict[str, Any]) -> str:
    validation = body.get("validation")
    errors = validation.get("errors") if isinstance(validation, dict) else None
    if not isinstance(errors, list):
        return ""
    messages = [
        clean(e["message"])
        for e in errors[:5]
        if isinstance(e, dict) and isinstance(e.get("message"), str) and e["message"]
    ]
    return f": {'; '.join(messages)}" if messages else ""
