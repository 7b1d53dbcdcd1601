"""The key that signs saved plans: its own secret, never the Codat API key.

`RECONCILE_SIGNING_KEY` holds it, or `RECONCILE_SIGNING_KEY_FILE` names a file holding it (as
CI secrets are mounted). Without either, a laptop gets a local key: `.reconcile/signing.key`,
generated on first use (32 random bytes, hex), written 0600, and said so on stderr; a plan signed
with it applies only where that file is.

Two values are derived from the secret with HKDF-SHA256 (RFC 5869), each under its own `info`:
the MAC key that signs plans, and the `key_id` a plan records to tell "signed with another key"
from "edited". The key id is 96 bits of an HKDF output: it says nothing about the MAC key, and
since secrets are at least 32 characters (a generated one is 256 bits), it gives an offline
attacker nothing to test guesses against in reasonable time.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from reconcile.plans.file.errors import SavedPlanError

SIGNING_KEY_ENV = "RECONCILE_SIGNING_KEY"
SIGNING_KEY_FILE_ENV = "RECONCILE_SIGNING_KEY_FILE"
LOCAL_KEY_PATH = Path(".reconcile") / "signing.key"
MIN_KEY_CHARS = 32
HKDF_SALT = b"codat-reconcile saved plans v1"
MAC_INFO = b"codat-reconcile plan mac v1"
KEY_ID_INFO = b"codat-reconcile key id v1"
KEY_ID_PREFIX = "hkdf-sha256:"
MAC_PREFIX = "hmac-sha256:"
GENERATE_HINT = "python3 -c 'import secrets; print(secrets.token_hex(32))'"


def hkdf_extract(salt: bytes, ikm: bytes) -> bytes:
    """RFC 5869 section 2.2 (SHA-256); an empty salt is HashLen zero bytes."""
    return hmac.new(salt or bytes(32), ikm, hashlib.sha256).digest()


def hkdf_expand(prk: bytes, info: bytes, length: int) -> bytes:
    """RFC 5869 section 2.3 (SHA-256)."""
    if not 0 < length <= 255 * 32:
        raise ValueError("HKDF-SHA256 output length must be 1..8160 bytes")
    okm, block, counter = b"", b"", 1
    while len(okm) < length:
        block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
        okm += block
        counter += 1
    return okm[:length]


def hkdf(ikm: bytes, *, salt: bytes, info: bytes, length: int = 32) -> bytes:
    return hkdf_expand(hkdf_extract(salt, ikm), info, length)


@dataclass(frozen=True)
class SigningKey:
    """A signing secret and where it came from (for messages; never the secret itself)."""

    secret: bytes = field(repr=False)
    source: str

    @property
    def key_id(self) -> str:
        return KEY_ID_PREFIX + hkdf(self.secret, salt=HKDF_SALT, info=KEY_ID_INFO, length=12).hex()

    def mac(self, payload: bytes) -> str:
        mac_key = hkdf(self.secret, salt=HKDF_SALT, info=MAC_INFO)
        return MAC_PREFIX + hmac.new(mac_key, payload, hashlib.sha256).hexdigest()

    def verifies(self, payload: bytes, mac: object) -> bool:
        return isinstance(mac, str) and hmac.compare_digest(mac, self.mac(payload))


def from_secret(secret: str, source: str) -> SigningKey:
    if len(secret) < MIN_KEY_CHARS:
        raise SavedPlanError(
            f"{source} is too short to sign plans ({len(secret)} characters; at least "
            f"{MIN_KEY_CHARS}): generate one with {GENERATE_HINT}"
        )
    return SigningKey(secret.encode(), source)


def signing_key(
    env: Mapping[str, str] | None = None, *, create: bool, local: Path = LOCAL_KEY_PATH
) -> tuple[SigningKey, str | None]:
    """The signing key of this run, and a note for stderr when it is the local one.

    `create`: generate the local key when no key is set and none exists (`plan --out`); apply
    never creates one (a new key verifies no plan)."""
    env = os.environ if env is None else env
    inline, named = env.get(SIGNING_KEY_ENV, ""), env.get(SIGNING_KEY_FILE_ENV, "")
    if inline and named:
        raise SavedPlanError(
            f"both {SIGNING_KEY_ENV} and {SIGNING_KEY_FILE_ENV} are set; set only one of them"
        )
    if inline:
        return from_secret(inline, SIGNING_KEY_ENV), None
    if named:
        return from_secret(_read_key_file(named, SIGNING_KEY_FILE_ENV), SIGNING_KEY_FILE_ENV), None
    if local.is_file():
        key = from_secret(_read_key_file(str(local), "the local signing key"), f"{local}")
        return key, f"Signing with the local key {local} ({SIGNING_KEY_ENV} is not set)."
    if not create:
        raise SavedPlanError(
            f"no signing key: set {SIGNING_KEY_ENV} (or {SIGNING_KEY_FILE_ENV}) to the key the "
            f"plan was signed with; without them, plans are signed with {local}, which does not "
            "exist here"
        )
    _write_new_key(local)
    note = (
        f"{SIGNING_KEY_ENV} is not set: generated a local signing key in {local} (readable by "
        "you only). Plans signed with it apply only where that file is; in CI set "
        f"{SIGNING_KEY_ENV} (or {SIGNING_KEY_FILE_ENV}) from a secret."
    )
    return from_secret(local.read_text(encoding="utf-8").strip(), f"{local}"), note


def _read_key_file(name: str, what: str) -> str:
    try:
        with open(name, encoding="utf-8") as handle:
            content = handle.read().rstrip("\r\n")
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise SavedPlanError(f"{what} names {name!r}, which cannot be read ({why})") from None
    if not content:
        raise SavedPlanError(f"{what} names {name!r}, which is empty")
    return content


def _write_new_key(local: Path) -> None:
    try:
        local.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(local, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(secrets.token_hex(32) + "\n")
    except FileExistsError:
        return  # another run made it meanwhile: use that one
    except OSError as exc:
        raise SavedPlanError(
            f"cannot write the local signing key {local}: {exc.strerror or exc}; "
            f"set {SIGNING_KEY_ENV} instead"
        ) from None
