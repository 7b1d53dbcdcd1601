"""`reconcile watch` refuses bad input before serving or writing anything: exit 1, one clear
line, no traceback."""

from __future__ import annotations

import base64
import os
import socket
from pathlib import Path

import pytest

from tests.support.cli import reconcile
from tests.watch.helpers import WATCHED, new_secret, served_codat, write_file

pytestmark = pytest.mark.slow


def test_bad_input_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    with served_codat(tmp_path) as codat:
        good = write_file(tmp_path / "customers.yaml")
        bad = write_file(tmp_path / "bad.yaml", WATCHED.replace("owner: ", "ownr: "))
        secret = {"CODAT_WEBHOOK_SECRET": new_secret()}

        invalid = reconcile(
            "watch", str(bad), "--listen", "127.0.0.1:0", env={**codat.env(), **secret}
        )
        assert invalid.returncode == 1 and "bad.yaml:" in invalid.stderr

        unsigned = reconcile("watch", str(good), "--listen", "127.0.0.1:0", env=codat.env())
        assert unsigned.returncode == 1 and "CODAT_WEBHOOK_SECRET" in unsigned.stderr

        garbled = reconcile(
            "watch", str(good), env={**codat.env(), "CODAT_WEBHOOK_SECRET": "whsec_!!not base64"}
        )
        assert garbled.returncode == 1 and "not a whsec_ secret" in garbled.stderr
        assert "!!not" not in garbled.stderr  # a secret is never echoed

        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen(1)
            port = taken.getsockname()[1]
            busy = reconcile(
                "watch", str(good), "--listen", f"127.0.0.1:{port}", env={**codat.env(), **secret}
            )
        assert busy.returncode == 1 and "cannot listen" in busy.stderr

        blocker = write_file(tmp_path / "not-a-dir", "")
        stateless = reconcile(
            "watch", str(good), "--state-dir", str(blocker), env={**codat.env(), **secret}
        )
        assert stateless.returncode == 1 and "choose a writable --state-dir" in stateless.stderr

        register = reconcile(
            "watch",
            str(good),
            "--register",
            "http://example.com/hook",
            env={**codat.env(), **secret},
        )
        assert register.returncode == 1 and "https://" in register.stderr

        for result in (invalid, unsigned, garbled, busy, stateless, register):
            assert "Traceback" not in result.stderr, result.stderr
        assert [r for r in codat.requests() if r["method"] != "GET"] == []


def test_a_short_webhook_secret_is_refused_at_start(tmp_path: Path) -> None:
    with served_codat(tmp_path) as codat:
        good = write_file(tmp_path / "customers.yaml")
        with socket.socket() as taken:  # so that a secret that passes stops right after
            taken.bind(("127.0.0.1", 0))
            taken.listen(1)
            busy = f"127.0.0.1:{taken.getsockname()[1]}"
            results = {}
            for size in (1, 16, 23, 24):
                secret = "whsec_" + base64.b64encode(os.urandom(size)).decode()
                results[size] = reconcile(
                    "watch",
                    str(good),
                    "--listen",
                    busy,
                    env={**codat.env(), "CODAT_WEBHOOK_SECRET": secret},
                )
                assert secret[6:] not in results[size].stderr  # never echoed
        for size in (1, 16, 23):
            short = results[size]
            assert short.returncode == 1, short.stderr
            assert f"is {size} bytes, fewer than 24" in short.stderr
            assert "Codat portal" in short.stderr and "Signing secret" in short.stderr
            assert "Traceback" not in short.stderr
        # Control: 24 bytes pass the check (and the watch stops only at the busy port).
        assert results[24].returncode == 1 and "cannot listen" in results[24].stderr
        assert "fewer than 24" not in results[24].stderr
        assert [r for r in codat.requests() if r["method"] != "GET"] == []
