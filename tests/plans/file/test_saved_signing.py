"""reconcile.plans.file.signing: HKDF per RFC 5869, the key id, and where the signing key comes
from."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from reconcile.plans.file import SavedPlanError
from reconcile.plans.file.signing import (
    LOCAL_KEY_PATH,
    MIN_KEY_CHARS,
    SIGNING_KEY_ENV,
    SIGNING_KEY_FILE_ENV,
    SigningKey,
    hkdf,
    hkdf_expand,
    hkdf_extract,
    signing_key,
)

SECRET = "kX7q-Vb2_pL9zR4m" * 2  # MIN_KEY_CHARS characters of some variety
assert len(SECRET) == MIN_KEY_CHARS


# RFC 5869 Appendix A, test cases 1 and 3 (SHA-256).
def test_rfc5869_test_case_1() -> None:
    ikm = bytes.fromhex("0b" * 22)
    salt = bytes.fromhex("000102030405060708090a0b0c")
    info = bytes.fromhex("f0f1f2f3f4f5f6f7f8f9")
    prk = hkdf_extract(salt, ikm)
    assert prk.hex() == "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5"
    okm = hkdf_expand(prk, info, 42)
    assert okm.hex() == (
        "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"
    )


def test_rfc5869_test_case_3_empty_salt_and_info() -> None:
    ikm = bytes.fromhex("0b" * 22)
    okm = hkdf(ikm, salt=b"", info=b"", length=42)
    assert okm.hex() == (
        "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8"
    )


def test_key_id_and_mac_are_separate_derivations() -> None:
    one, two = SigningKey(SECRET.encode(), "a"), SigningKey(("t" * 40).encode(), "b")
    assert one.key_id != two.key_id and one.key_id.startswith("hkdf-sha256:")
    assert len(one.key_id.split(":")[1]) == 24
    mac = one.mac(b"payload")
    assert one.verifies(b"payload", mac) and not two.verifies(b"payload", mac)
    assert not one.verifies(b"other", mac)
    assert one.key_id.split(":")[1] not in mac and SECRET not in repr(one)


def test_the_variable_wins_and_says_nothing(tmp_path: Path) -> None:
    key, note = signing_key({SIGNING_KEY_ENV: SECRET}, create=True, local=tmp_path / "k")
    assert key.secret == SECRET.encode() and note is None
    assert not (tmp_path / "k").exists()


def test_key_file_strips_its_newline(tmp_path: Path) -> None:
    named = tmp_path / "secret"
    named.write_text(SECRET + "\n")
    named.chmod(0o600)
    key, _ = signing_key({SIGNING_KEY_FILE_ENV: str(named)}, create=False, local=tmp_path / "k")
    assert key.secret == SECRET.encode()


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({SIGNING_KEY_ENV: "short"}, "too short"),
        ({SIGNING_KEY_ENV: SECRET, SIGNING_KEY_FILE_ENV: "x"}, "set only one"),
        ({SIGNING_KEY_FILE_ENV: "/nonexistent/key"}, "cannot be read"),
        ({}, "no signing key"),
    ],
)
def test_bad_keys_are_clear_errors(tmp_path: Path, env: dict[str, str], expected: str) -> None:
    with pytest.raises(SavedPlanError, match=expected):
        signing_key(env, create=False, local=tmp_path / "missing")


def test_a_laptop_gets_a_private_local_key_once(tmp_path: Path) -> None:
    local = tmp_path / LOCAL_KEY_PATH
    key, note = signing_key({}, create=True, local=local)
    assert note is not None and "generated" in note and str(local) in note
    assert stat.S_IMODE(os.stat(local).st_mode) == 0o600
    again, note2 = signing_key({}, create=False, local=local)
    assert again.key_id == key.key_id and note2 is not None and "generated" not in note2


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644, 0o660])
def test_a_key_file_others_may_read_is_refused(tmp_path: Path, mode: int) -> None:
    named = tmp_path / "secret"
    named.write_text(SECRET + "\n")
    named.chmod(mode)
    with pytest.raises(SavedPlanError) as caught:
        signing_key({SIGNING_KEY_FILE_ENV: str(named)}, create=False, local=tmp_path / "k")
    message = str(caught.value)
    assert f"mode {mode:04o}" in message and "chmod 600" in message
    assert SECRET not in message
    named.chmod(0o400)  # the control: the same file, readable by its owner only
    key, _ = signing_key({SIGNING_KEY_FILE_ENV: str(named)}, create=False, local=tmp_path / "k")
    assert key.secret == SECRET.encode()


@pytest.mark.parametrize(
    ("secret", "why"),
    [
        ("s" * 32, "1 distinct characters, about 0 bits"),
        ("ab" * 20, "2 distinct characters"),
        ("password" * 4, "mostly a repeated pattern"),
        ("0123456789" * 4, "mostly a repeated pattern"),
    ],
)
def test_a_key_of_too_little_variety_is_refused(tmp_path: Path, secret: str, why: str) -> None:
    with pytest.raises(SavedPlanError) as caught:
        signing_key({SIGNING_KEY_ENV: secret}, create=False, local=tmp_path / "k")
    message = str(caught.value)
    assert why in message and "secrets.token_urlsafe(32)" in message
    assert secret not in message


def test_generated_secrets_pass_the_variety_check(tmp_path: Path) -> None:
    import secrets

    from reconcile.plans.file.signing import weakness

    for _ in range(2000):  # what the docs and errors tell people to run, and shorter ones
        assert weakness(secrets.token_urlsafe(32)) is None
        assert weakness(secrets.token_hex(32)) is None
        assert weakness(secrets.token_hex(16)) is None


def test_the_local_key_the_tool_writes_passes_its_own_checks(tmp_path: Path) -> None:
    local = tmp_path / LOCAL_KEY_PATH
    for _ in range(50):
        local.unlink(missing_ok=True)
        signing_key({}, create=True, local=local)
        key, note = signing_key({}, create=False, local=local)  # read back: mode and variety
        assert note is not None and len(key.secret) == 64
