"""A served sandbox killed with SIGKILL mid-run keeps every write it acknowledged
(store/sqlite_file.py: `synchronous = OFF` gives up only the machine crashing, never the process).

Clients keep creating companies and connections (keyed, so their idempotency records are written
too, and every request is counted against the quota) while the server is killed; every answer a
client received is then found in the file by the next process that opens it.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import httpx

from reconcile.sandbox.store import Store
from tests.conftest import AUTH_HEADERS
from tests.support.processes import started
from tests.support.sandbox_server import LISTENING, PROJECT_ROOT, sandbox_command, serve_sandbox

CLIENTS = 4
ACKNOWLEDGED_BEFORE_KILL = 60  # customers (each a keyed company and a keyed connection)
QUOTA = 1_000_000


def test_a_killed_sandbox_keeps_every_write_it_acknowledged(tmp_path: Path) -> None:
    db = tmp_path / "sandbox.db"
    command = sandbox_command("serve", "--port", "0", "--db", str(db), "--daily-quota", str(QUOTA))
    acknowledged: list[tuple[str, str, str]] = []  # (idempotency key, company id, connection id)
    lock = threading.Lock()
    enough = threading.Event()
    cut_off: list[str] = []  # clients whose request was in flight when the server died

    def client(url: str, n: int) -> None:
        with httpx.Client(base_url=url, headers=AUTH_HEADERS, timeout=30) as http:
            for i in range(10_000):
                key = f"client-{n}-{i}"
                try:
                    company = http.post(
                        "/companies", json={"name": key}, headers={"Idempotency-Key": key}
                    )
                    company.raise_for_status()
                    connection = http.post(
                        f"/companies/{company.json()['id']}/connections",
                        json={"platformKey": "gbol"},
                        headers={"Idempotency-Key": key + "-connection"},
                    )
                    connection.raise_for_status()
                except httpx.TransportError:
                    cut_off.append(key)
                    return
                with lock:
                    acknowledged.append((key, company.json()["id"], connection.json()["id"]))
                    if len(acknowledged) >= ACKNOWLEDGED_BEFORE_KILL:
                        enough.set()

    env = dict(os.environ)
    with started(command, [LISTENING], name="sandbox", env=env, cwd=PROJECT_ROOT) as server:
        url = server.found[0]
        threads = [threading.Thread(target=client, args=(url, n)) for n in range(CLIENTS)]
        for thread in threads:
            thread.start()
        assert enough.wait(timeout=120), "the clients never got their answers"
        server.process.kill()  # SIGKILL: no shutdown, no last commit, no flush
        server.process.wait()
        for thread in threads:
            thread.join(timeout=60)
    assert cut_off, "the kill landed after the clients stopped: nothing was in flight"
    with lock:
        answered = list(acknowledged)

    store = Store(db)
    for key, company_id, connection_id in answered:
        company = store.get_company(company_id)
        assert company is not None, f"{key}: acknowledged company {company_id} lost"
        assert company["name"] == key
        assert connection_id in {c["id"] for c in company["dataConnections"]}, key

    key, company_id, _ = answered[0]
    with (
        serve_sandbox(db, "--daily-quota", str(QUOTA)) as url,
        httpx.Client(base_url=url, headers=AUTH_HEADERS, timeout=30) as http,
    ):
        replay = http.post("/companies", json={"name": key}, headers={"Idempotency-Key": key})
    assert replay.status_code == 200
    assert replay.json()["id"] == company_id  # the stored answer survived, not a new one
    used = QUOTA - int(replay.headers["X-Rate-Limit-Remaining"])
    assert used >= 2 * len(answered) + 1  # every acknowledged request stayed counted
