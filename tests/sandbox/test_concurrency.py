"""Several OS processes writing one SQLite file at once: nothing lost, nothing locked."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from reconcile.sandbox.store import Store
from tests.conftest import AUTH_HEADERS
from tests.support.sandbox_server import PROJECT_ROOT, serve_sandbox

WRITERS = 4
CREATES_EACH = 50
HTTP_CREATES = 50

WRITER = textwrap.dedent(
    """
    import os, sys, time
    from reconcile.sandbox.store import Store

    store = Store(sys.argv[1])
    writer, count, go = sys.argv[2], int(sys.argv[3]), sys.argv[4]
    while not os.path.exists(go):  # start together
        time.sleep(0.002)
    for i in range(count):
        store.create_company(f"Writer {writer} {i}", None, {"writer": writer})
    print("done", writer)
    """
)

RACER = textwrap.dedent(
    """
    import sys
    from reconcile.sandbox.store import Conflict, Store

    store = Store(sys.argv[1])
    try:
        store.create_connection(sys.argv[2], sys.argv[3], "http://127.0.0.1:9")
    except Conflict:
        print("refused")
    else:
        print("created")
    """
)


def spawn(script: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", script, *args],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen[str]) -> str:
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    assert "locked" not in err
    return out


def test_processes_and_a_served_sandbox_write_one_file(tmp_path: Path) -> None:
    db = tmp_path / "shared.db"
    Store(db).close()
    with serve_sandbox(db, "--daily-quota", "1000000") as url:
        go = tmp_path / "go"
        writers = [
            spawn(WRITER, str(db), str(n), str(CREATES_EACH), str(go)) for n in range(WRITERS)
        ]
        with httpx.Client(base_url=url, headers=AUTH_HEADERS, timeout=60) as client:
            go.touch()

            def create(i: int) -> int:
                body = {"name": f"HTTP {i}", "tags": {"writer": "http"}}
                return client.post("/companies", json=body).status_code

            with ThreadPoolExecutor(max_workers=8) as pool:
                statuses = list(pool.map(create, range(HTTP_CREATES)))
            outputs = [finish(w) for w in writers]
            total = client.get("/companies", params={"pageSize": 1}).json()["totalResults"]
    assert statuses == [200] * HTTP_CREATES
    assert all(out.startswith("done") for out in outputs)
    assert total == WRITERS * CREATES_EACH + HTTP_CREATES
    store = Store(db)
    for n in range(WRITERS):
        assert len(store.find_companies_by_tag("writer", str(n))) == CREATES_EACH
    assert len(store.find_companies_by_tag("writer", "http")) == HTTP_CREATES
    store.close()


def test_processes_initialise_a_new_file_at_once(tmp_path: Path) -> None:
    db = tmp_path / "fresh.db"
    go = tmp_path / "go"
    writers = [spawn(WRITER, str(db), str(n), "1", str(go)) for n in range(6)]
    go.touch()
    assert all(finish(w).startswith("done") for w in writers)
    store = Store(db)
    assert store.count_companies() == 6
    store.close()


def test_racing_processes_create_one_active_accounting_connection(tmp_path: Path) -> None:
    db = tmp_path / "race.db"
    store = Store(db)
    company = store.create_company("Contended")
    racers = [spawn(RACER, str(db), company["id"], key) for key in ("gbol", "qhyg") * 3]
    results = sorted(finish(r).strip() for r in racers)
    assert results == ["created"] + ["refused"] * 5
    refreshed = store.get_company(company["id"])
    assert refreshed is not None and len(refreshed["dataConnections"]) == 1
    store.close()
