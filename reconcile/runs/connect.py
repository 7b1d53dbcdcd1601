"""Which Codat a run talks to (`Where`), and the client for it: real Codat (its key and base
URL from the environment, or from the file's environment) or the in-process sandbox."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from reconcile.runs.errors import RunError

if TYPE_CHECKING:
    from reconcile.codat import CodatClient
    from reconcile.model import DesiredState, Environment

DEFAULT_SANDBOX_DB = Path(".reconcile") / "sandbox.db"
# The in-process sandbox pretends to live here, so linkUrls point at `sandbox serve`'s default.
IN_PROCESS_SANDBOX_URL = "http://127.0.0.1:8765"

# Seconds a command may spend talking to Codat in all (`--timeout`): a plan of the largest
# supported fleet takes minutes; a server that drips bytes must not hold a run forever.
DEFAULT_TIMEOUT = 3600.0


@dataclass(frozen=True)
class Where:
    """Which Codat a command talks to: the real one (from the environment) or the sandbox."""

    sandbox: bool
    sandbox_db: Path | None
    env: str | None = None  # --env: which of the file's environments (Codat accounts)
    # The command's overall deadline in seconds (`--timeout`); None: none.
    timeout: float | None = DEFAULT_TIMEOUT
    # --allow-base-url and RECONCILE_ALLOW_BASE_URL: hosts beyond Codat's and loopback an
    # environment's base_url may send its key to (the command line's word, never a file's).
    allowed_base_urls: frozenset[str] = frozenset()
    # --requests-per-minute and RECONCILE_REQUESTS_PER_MINUTE: the client's pace
    # (`reconcile.codat.pacing`); None: Codat's 1,000 against Codat, the embedded sandbox's own
    # limit a minute (if any) against it, none against a loopback URL; 0: unpaced.
    requests_per_minute: int | None = None


def open_client(
    where: Where,
    client_class: type[CodatClient] | None = None,
    *,
    desired: DesiredState | None = None,
    read_only: bool = False,
) -> CodatClient:
    """A client for real Codat (CODAT_API_KEY, CODAT_BASE_URL) or the in-process sandbox.

    `client_class` (a CodatClient subclass, e.g. the audit's snapshot) replaces the default;
    `read_only` makes it the client that refuses to write. When
    `desired` was resolved for an environment, the key and base URL are that environment's, and
    the client confirms the key's account (`GET /profile`) before sending anything else."""
    import httpx

    from reconcile.codat import ClientSettings, CodatClient, ConfigError

    cls = client_class or CodatClient
    if read_only and client_class is None:
        from reconcile.codat.readonly import ReadOnlyClient

        cls = ReadOnlyClient
    env = desired.environments.get(desired.environment or "") if desired is not None else None

    try:
        if where.sandbox:
            import os

            from reconcile.sandbox.app import create_app
            from reconcile.sandbox.options import ACCOUNT_NAME_ENV, SandboxOptions

            db = where.sandbox_db or DEFAULT_SANDBOX_DB
            db.parent.mkdir(parents=True, exist_ok=True)
            try:  # no daily quota unless RECONCILE_SANDBOX_DAILY_QUOTA asks for one
                options = SandboxOptions.in_process(db, os.environ)
            except ValueError as exc:
                raise RunError(str(exc)) from None
            if env is not None and not os.environ.get(ACCOUNT_NAME_ENV):
                # The embedded sandbox stands in for whichever account the run names.
                options = dataclasses.replace(options, account_name=env.account)
            app = create_app(options)
            pace = where.requests_per_minute
            settings = ClientSettings(
                base_url=IN_PROCESS_SANDBOX_URL,
                deadline=where.timeout,
                # Paced to the sandbox's own limit a minute, as to Codat's.
                requests_per_minute=options.minute_limit if pace is None else pace,
            )
            return cls("sandbox", settings, transport=httpx.ASGITransport(app=app))
        from reconcile.runs.credentials import api_key_from_env, base_url_from_env

        if env is None:
            settings = ClientSettings(
                base_url=base_url_from_env(),
                deadline=where.timeout,
                requests_per_minute=where.requests_per_minute,
            )
            return cls(api_key_from_env(), settings)
        settings = ClientSettings(
            base_url=env.base_url or base_url_from_env(),
            deadline=where.timeout,
            requests_per_minute=where.requests_per_minute,
            expected_account=env.account,
            account_label=f"environment {env.name} (in the file)",
        )
        return cls(api_key_from_env(env.api_key_env, env.name), settings)
    except ConfigError as exc:
        raise RunError(str(exc)) from None


def base_url_of(where: Where, env: Environment | None = None) -> str:
    """The normalised base URL this run talks to (the environment's, when it names one)."""
    from reconcile.codat import ConfigError
    from reconcile.codat.client import check_base_url
    from reconcile.runs.credentials import base_url_from_env

    if where.sandbox:
        return IN_PROCESS_SANDBOX_URL
    try:
        return check_base_url((env.base_url if env else None) or base_url_from_env())
    except ConfigError as exc:
        raise RunError(str(exc)) from None
