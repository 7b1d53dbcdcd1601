"""Every knob of the sandbox, in one place (CLI flags map 1:1 onto these fields)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

MAX_BODY_BYTES: Final = 1024 * 1024
# The daily quota: a number of requests a UTC day per key, Codat's formula, or none at all.
CODAT_FORMULA: Final = "codat"
DailyQuota = int | Literal["codat"] | None
# The in-process `--sandbox` has no daily quota unless this asks for one (a number or "codat").
DAILY_QUOTA_ENV: Final = "RECONCILE_SANDBOX_DAILY_QUOTA"
NO_QUOTA_WORDS: Final = frozenset({"none", "off", "unlimited"})
# Codat's limit per minute (1,000 per IP), off unless asked for: tests and benchmarks stay fast.
MINUTE_LIMIT_ENV: Final = "RECONCILE_SANDBOX_MINUTE_LIMIT"
# The name `GET /profile` answers: the Codat account (client instance) the key belongs to.
DEFAULT_ACCOUNT_NAME: Final = "Codat sandbox"
ACCOUNT_NAME_ENV: Final = "RECONCILE_SANDBOX_ACCOUNT"
# Codat retries a failed webhook for about 28 hours; the sandbox, within seconds.
WEBHOOK_RETRY_DELAYS: Final = (0.5, 1.0, 2.0, 4.0, 8.0)
MAX_RETRY_DELAY: Final = 86_400.0


def parse_daily_quota(text: str, source: str = "--daily-quota") -> DailyQuota:
    """`1000`, `codat` (Codat's formula) or `none`; ValueError naming `source` otherwise."""
    word = text.strip().casefold()
    if word == CODAT_FORMULA:
        return CODAT_FORMULA
    if word in NO_QUOTA_WORDS:
        return None
    if word.isdigit():
        return int(word)
    raise ValueError(
        f"{source} must be a number of requests a day, 'codat' (Codat's formula) or 'none',"
        f" not {text.strip()[:40]!r}"
    )


def parse_minute_limit(text: str, source: str = "--minute-limit") -> int | None:
    """`1000` (requests a minute per key, at least 1) or `none`; ValueError naming `source`."""
    word = text.strip().casefold()
    if word in NO_QUOTA_WORDS:
        return None
    if word.isdigit() and int(word) >= 1:
        return int(word)
    raise ValueError(
        f"{source} must be a number of requests a minute (at least 1) or 'none',"
        f" not {text.strip()[:40]!r}"
    )


def parse_retry_delays(text: str, source: str = "--webhook-retry-delays") -> tuple[float, ...]:
    """`0.5,1,2` (seconds before each retry of a failed webhook delivery) or `none` (no retry);
    ValueError naming `source` otherwise."""
    word = text.strip().casefold()
    if word in NO_QUOTA_WORDS or word == "":
        return ()
    try:
        delays = tuple(float(part) for part in word.split(","))
    except ValueError:
        delays = ()
    if not delays or not all(0 <= d <= MAX_RETRY_DELAY for d in delays) or len(delays) > 20:
        raise ValueError(
            f"{source} must be up to 20 comma-separated numbers of seconds (0 to"
            f" {MAX_RETRY_DELAY:g}) or 'none', not {text.strip()[:40]!r}"
        )
    return delays


@dataclass(frozen=True)
class SandboxOptions:
    db_path: Path
    # Authentication: None accepts any non-empty Basic key; otherwise only this raw key.
    api_key: str | None = None
    # The Codat account this sandbox stands for: the name `GET /profile` answers
    account_name: str = DEFAULT_ACCOUNT_NAME
    # Fidelity switches
    omit_integration_key: bool = False  # Codat may omit Connection.integrationKey
    # Rate limits (SOURCE.md): per-company concurrency and a daily quota per key
    concurrency_limit: int = 10
    # "codat": Codat's client limit, max(1000, 100 x active connected companies); None: no
    # daily quota (and no X-Rate-Limit-* headers: there is nothing to count down)
    daily_quota: DailyQuota = CODAT_FORMULA
    # Codat's 1,000 requests a minute (per IP; here per key), in fixed minutes of the sandbox's
    # clock; None: no limit a minute (the default: tests and benchmarks stay fast)
    minute_limit: int | None = None
    # Fault injection, seeded and reproducible
    seed: int | None = None
    latency_ms: int = 0
    error_rate: float = 0.0
    throttle_rate: float = 0.0
    drop_rate: float = 0.0
    lost_response_rate: float = 0.0
    retry_after_seconds: int = 1
    # Webhooks (Codat's `/webhooks`): delivered by the serving process from the outbox, with
    # a bounded backoff (seconds before each retry), and faults seeded by `seed`
    deliver_webhooks: bool = False
    webhook_retry_delays: tuple[float, ...] = WEBHOOK_RETRY_DELAYS
    webhook_drop_rate: float = 0.0
    webhook_duplicate_rate: float = 0.0
    webhook_svix_headers: bool = False  # Codat's older `svix-*` header names
    # One-time Link URLs: a fresh `linkUrl` on each read, working once within a day
    one_time_links: bool = False
    # One JSON line per request
    request_log: Path | None = None
    # Request bodies above this many bytes are refused (413) while they are read
    max_body_bytes: int = MAX_BODY_BYTES

    @classmethod
    def in_process(cls, db_path: Path, environ: Mapping[str, str]) -> SandboxOptions:
        """The embedded `--sandbox`: no daily quota, so a trial never stops, unless
        `RECONCILE_SANDBOX_DAILY_QUOTA` asks for one, and no limit a minute unless
        `RECONCILE_SANDBOX_MINUTE_LIMIT` asks for one (ValueError if either is not well formed);
        `RECONCILE_SANDBOX_ACCOUNT` names the account `GET /profile` answers."""
        raw = environ.get(DAILY_QUOTA_ENV, "").strip()
        quota = parse_daily_quota(raw, DAILY_QUOTA_ENV) if raw else None
        raw = environ.get(MINUTE_LIMIT_ENV, "").strip()
        minute = parse_minute_limit(raw, MINUTE_LIMIT_ENV) if raw else None
        account = environ.get(ACCOUNT_NAME_ENV, "").strip() or DEFAULT_ACCOUNT_NAME
        return cls(db_path=db_path, daily_quota=quota, minute_limit=minute, account_name=account)
