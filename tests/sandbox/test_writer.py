"""One writer at a time per process and file: the store and the layers share one lock."""

from __future__ import annotations

import threading
from pathlib import Path

from reconcile.sandbox.layers.idempotency import IdempotencyStore
from reconcile.sandbox.store import Store
from reconcile.sandbox.store.writer import writer_lock


def test_one_lock_per_file(tmp_path: Path) -> None:
    assert writer_lock(tmp_path / "a.db") is writer_lock(tmp_path / "a.db")
    assert writer_lock(tmp_path / "a.db") is not writer_lock(tmp_path / "b.db")


def _blocked_while_held(db: Path, write: threading.Thread) -> tuple[bool, bool]:
    """(finished while another thread held the lock, finished after it was released)."""
    lock = writer_lock(db)
    with lock:
        write.start()
        write.join(timeout=0.5)
        during = not write.is_alive()
    write.join(timeout=30)
    return during, not write.is_alive()


def test_a_store_write_waits_for_the_writer_lock(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    store = Store(db)
    made: list[str] = []
    write = threading.Thread(target=lambda: made.append(store.create_company("A")["id"]))
    assert _blocked_while_held(db, write) == (False, True)
    assert store.get_company(made[0]) is not None
    store.close()


def test_a_layer_write_waits_for_the_writer_lock(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    keys = IdempotencyStore(db)
    assert keys.conn is not None  # the layer opens its table before the lock is taken
    decisions: list[object] = []
    write = threading.Thread(target=lambda: decisions.append(keys.claim("c", "k", "fp", 1.0)))
    assert _blocked_while_held(db, write) == (False, True)
    assert type(decisions[0]).__name__ == "Claimed"
