"""Trusted settings: an environment's `account`, `base_url` and `api_key_env` decide where an API
key is sent, so they never come from a pull request, and a file alone never sends a key off
Codat's own API.

Pure: no I/O. The command line reads the files and asks these functions what to refuse:

- `against_base`: with `--base`, the pull request's environments must be the base files' exactly
  (none changed, added or removed); the base files' are then used;
- `off_codat`: without `--base`, an environment's `base_url` must be Codat's own API
  (`reconcile.codat.baseurl.CODAT_API_URLS`), loopback, or a URL the command line allowed;
- `consumer_off`: the webhook consumer an environment's `settings` declares decides where
  Codat sends the account's webhooks, so its url must be https:// (plain http only to
  loopback) with no user info. Moving it to another host is a destroy
  (`reconcile.planner.settings.allow_redirects`).

`Distrust` says what is wrong and where (`at`: the environment and field to point at in the file).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from reconcile.escape import quoted
from reconcile.loopback import is_loopback

if TYPE_CHECKING:
    from reconcile.model import Environment

TRUSTED_FIELDS = ("account", "base_url", "api_key_env", "settings")
ALLOW_BASE_URL_ENV = "RECONCILE_ALLOW_BASE_URL"
HOW_IT_LANDS = (
    "an environment's account, base_url and api_key_env decide where its API key is sent, so a "
    "pull request cannot change them: land such a change as a maintainer's own change on the "
    "default branch (docs/environments.md, 'Changing an environment'), then rebase"
)


@dataclass(frozen=True)
class Distrust:
    """One refused setting: `env` (None: the `environments:` block) and `field` to point at
    (`under`: the keys below it, when written)."""

    env: str | None
    field: str | None
    message: str
    under: tuple[str, ...] = ()


def against_base(
    base: Mapping[str, Environment], head: Mapping[str, Environment], base_files: str
) -> list[Distrust]:
    """Every difference between the pull request's environments (`head`) and the base's."""
    found: list[Distrust] = []
    for name in sorted(head.keys() - base.keys()):
        found.append(
            Distrust(
                name,
                None,
                f"environment '{name}' is not declared in the base files ({base_files}); "
                f"{HOW_IT_LANDS}",
            )
        )
    for name in sorted(base.keys() - head.keys()):
        found.append(
            Distrust(
                None,
                None,
                f"environment '{name}' of the base files ({base_files}) is missing here; "
                f"{HOW_IT_LANDS}",
            )
        )
    for name in sorted(base.keys() & head.keys()):
        for field in TRUSTED_FIELDS:
            if getattr(base[name], field) != getattr(head[name], field):
                found.append(
                    Distrust(
                        name,
                        field,
                        f"environment '{name}': {field} differs from the base files "
                        f"({base_files}); {HOW_IT_LANDS}",
                    )
                )
    return found


def unverifiable(base_files: str) -> Distrust:
    """The files declare environments and the base files do not load: nothing to trust."""
    return Distrust(
        None,
        None,
        f"the base files ({base_files}) do not load, so these environments cannot be checked "
        "against them and none is used; fix the default branch first (a maintainer's change), "
        "then rebase",
    )


def off_codat(
    environments: Mapping[str, Environment], names: Collection[str], allowed: Collection[str]
) -> list[Distrust]:
    """The environments among `names` whose `base_url` is neither Codat's API, loopback, nor
    allowed on the command line (`allowed`)."""
    # Imported here: the client package is heavy, and `validate` (consumer_off) needs none of it.
    from reconcile.codat.baseurl import CODAT_API_URLS, is_trusted_host

    found: list[Distrust] = []
    for name in sorted(names):
        env = environments.get(name)
        if env is None or env.base_url is None:
            continue
        if is_trusted_host(env.base_url, tuple(allowed)):
            continue
        url = quoted(env.base_url)
        found.append(
            Distrust(
                name,
                "base_url",
                f"environment '{name}': base_url {url} is not Codat's API "
                f"({', '.join(CODAT_API_URLS)}) nor loopback, and a file cannot send a key "
                "elsewhere; if that server is meant, allow it on the command line: "
                f"--allow-base-url {url} (or {ALLOW_BASE_URL_ENV})",
            )
        )
    return found


CONSUMER_AT = ("webhookConsumer", "url")


def consumer_off(environments: Mapping[str, Environment], names: Collection[str]) -> list[Distrust]:
    """The environments among `names` whose declared webhook consumer's url is not https://
    (nor plain http to loopback), or holds user info (never echoed: it may be a password)."""
    found: list[Distrust] = []
    for name in sorted(names):
        env = environments.get(name)
        consumer = env.settings.consumer if env is not None and env.settings else None
        if consumer is None:
            continue
        why = _consumer_url_problem(consumer.url)
        if why is not None:
            message = (
                f"environment '{name}': settings.webhookConsumer.url {why}; it decides where "
                "Codat sends the account's webhooks: give the watch's https:// URL (plain http "
                "only to a loopback address) without user info"
            )
            found.append(Distrust(name, "settings", message, CONSUMER_AT))
    return found


def _consumer_url_problem(url: str) -> str | None:
    try:
        parts = urlsplit(url)
        host = parts.hostname
        _ = parts.port
    except ValueError:
        return "is not a valid URL"
    if "@" in parts.netloc:
        return "holds user info (user:password@)"
    if parts.scheme == "https" and host:
        return None
    if parts.scheme == "http" and host and is_loopback(host):
        return None
    return f"{quoted(url)} is not https://"


def allowed_from(option: Collection[str], environ: Mapping[str, str]) -> frozenset[str]:
    """The base URLs the command line allows: `--allow-base-url` (repeatable) and the operator's
    RECONCILE_ALLOW_BASE_URL (several separated by spaces or commas)."""
    listed = environ.get(ALLOW_BASE_URL_ENV, "").replace(",", " ").split()
    return frozenset(u for u in (*option, *listed) if u)
