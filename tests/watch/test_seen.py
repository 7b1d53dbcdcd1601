"""The delivery ids the watch has accepted, in SQLite: kept for the window (an injected clock),
shared by every instance opening the file (a restart, a replica), forgotten after it."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconcile.watch.seen import SEEN_SECONDS, SeenError, SeenIds
from tests.support.virtual_time import SetClock


def test_an_id_is_seen_across_instances_within_the_window(tmp_path: Path) -> None:
    clock = SetClock(1_700_000_000.0)
    path = tmp_path / "state" / "seen.sqlite"
    first = SeenIds(path, clock=clock)
    assert first.first_time("msg_1") and "msg_1" in first
    assert not first.first_time("msg_1")
    first.close()

    clock.now += SEEN_SECONDS - 1
    restarted = SeenIds(path, clock=clock)  # a restart (or a replica) opens the same file
    assert "msg_1" in restarted and not restarted.first_time("msg_1")
    assert restarted.first_time("msg_2")  # control: another id is new

    clock.now += 2  # past the window of msg_1 (its signature has long expired)
    assert "msg_1" not in restarted and restarted.first_time("msg_1")
    restarted.close()


def test_an_unusable_place_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("", encoding="utf-8")
    with pytest.raises(SeenError, match="--state-dir"):
        SeenIds(blocker / "seen.sqlite")
