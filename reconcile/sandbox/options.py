"""Every knob of the sandbox, in one place (CLI flags map 1:1 onto these fields)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

MAX_BODY_BYTES: Final = 1024 * 1024


@dataclass(frozen=True)
class SandboxOptions:
    db_path: Path
    # Authentication: None accepts any non-empty Basic key; otherwise only this raw key.
    api_key: str | None = None
    # Fidelity switches
    omit_integration_key: bool = False  # Codat may omit Connection.integrationKey
    # Rate limits (SOURCE.md): per-company concurrency and a daily quota per key
    concurrency_limit: int = 10
    daily_quota: int | None = None  # None: 1000 x (1 + active connected companies)
    # Fault injection, seeded and reproducible
    seed: int | None = None
    latency_ms: int = 0
    error_rate: float = 0.0
    throttle_rate: float = 0.0
    drop_rate: float = 0.0
    lost_response_rate: float = 0.0
    retry_after_seconds: int = 1
    # One JSON line per request
    request_log: Path | None = None
    # Request bodies above this many bytes are refused (413) while they are read
    max_body_bytes: int = MAX_BODY_BYTES
