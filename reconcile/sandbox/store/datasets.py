"""What Codat has fetched from a company's accounting platform: the data status per data type
(`GET /companies/{companyId}/dataStatus`), refreshing it (`POST .../data/all`), the account's
sync settings (`GET/POST /profile/syncSettings`), and records deleted in the platform.

Choices the specs leave open, kept simple and deterministic:
- a company has data statuses once it has a Linked accounting connection: on the first read, the
  data types whose sync setting fetches on first link are Complete as of that moment, the others
  have never been fetched (no `lastSuccessfulSync`);
- scheduled syncs are computed on read, not run: a data type with a schedule of N hours has
  synced at the last multiple of N hours of the store's clock, unless its syncs stopped or fail
  (`sandbox data-status`), or the connection has an Active error. So a stopped data type ages
  with the clock (injected: `Store(clock=...)`; by default the real time moved by `sandbox
  clock`, `store/clock.py`), and the rest stay fresh;
- a refresh completes at once: every data type that fetches on first link is Complete now (and
  its syncs resume), or, where it fails or the connection has an Active error, FetchError with
  its last success unchanged; each is recorded as a pull operation (`store/pulls.py`);
- a supplier, customer or bank account deleted in the platform (`sandbox delete-record`) is
  gone from the data endpoints and the mapping options.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, Final

from reconcile.sandbox.registry import ACCOUNTING, ERROR_ACTIVE, LINKED
from reconcile.sandbox.store import pulls
from reconcile.sandbox.store.clock import STATEMENT as CLOCK_TABLE
from reconcile.sandbox.store.clock import StoredClock
from reconcile.sandbox.store.db import StoreDB
from reconcile.sandbox.store.filters import Ordering, Query
from reconcile.sandbox.store.sql import Wire, order_sql, select_page, where_company

STATEMENTS: Final = (
    """CREATE TABLE IF NOT EXISTS data_status (
        company_id     TEXT NOT NULL REFERENCES companies(id) ON DELETE CASCADE,
        data_type      TEXT NOT NULL,
        last_success   REAL,
        status         TEXT NOT NULL,
        sync_id        TEXT NOT NULL,
        success_id     TEXT,
        stopped        INTEGER NOT NULL DEFAULT 0,
        failing        INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (company_id, data_type)
    )""",
    """CREATE TABLE IF NOT EXISTS sync_settings (
        data_type TEXT PRIMARY KEY,
        setting   TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS deleted_records (
        company_id TEXT NOT NULL REFERENCES companies(id) ON DELETE CASCADE,
        kind       TEXT NOT NULL,
        record_id  TEXT NOT NULL,
        PRIMARY KEY (company_id, kind, record_id)
    )""",
)

COMPLETE: Final = "Complete"
FETCH_ERROR: Final = "FetchError"
INITIAL: Final = "Initial"
RECORD_KINDS: Final = ("suppliers", "customers", "bankAccounts")
# Codat's accounting data types the sandbox tracks, in its default sync order, each with whether
# it is fetched on first link by default: the first seven, which Sync for Expenses needs fetched on
# first link and daily.
DATA_TYPES: Final[Mapping[str, bool]] = MappingProxyType(
    {
        "chartOfAccounts": True,
        "bankAccounts": True,
        "company": True,
        "customers": True,
        "suppliers": True,
        "taxRates": True,
        "trackingCategories": True,
        "invoices": False,
        "bills": False,
        "journalEntries": False,
    }
)
DEFAULT_SCHEDULE_HOURS: Final = 24
_CLIENT_NAMESPACE: Final = uuid.UUID("0b8f43a4-3f5e-4f6c-9a55-1d2b2f0e7c11")


def default_settings() -> list[Wire]:
    return [
        {
            "dataType": data_type,
            "fetchOnFirstLink": fetched,
            "syncSchedule": DEFAULT_SCHEDULE_HOURS,
            "syncOrder": order,
            "isLocked": False,
        }
        for order, (data_type, fetched) in enumerate(DATA_TYPES.items())
    ]


def client_id(account_name: str) -> str:
    """The account's client id: stable for one account name."""
    return str(uuid.uuid5(_CLIENT_NAMESPACE, account_name))


def iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class DatasetStore(StoreDB):
    """Data statuses, refreshes, sync settings and deleted records (see the module's text)."""

    def __init__(
        self,
        db_path: str | os.PathLike[str],
        *,
        omit_integration_key: bool = False,
        clock: Callable[[], float] | None = None,
    ) -> None:
        super().__init__(db_path, omit_integration_key=omit_integration_key)
        # Without a clock of its own: the real time plus the state file's offset (clock.py).
        self.clock = clock or StoredClock(db_path)
        with self._write() as conn:
            for statement in (*STATEMENTS, *pulls.STATEMENTS, CLOCK_TABLE):
                conn.execute(statement)

    # ------------------------------------------------------------------ sync settings

    def sync_settings(self) -> list[Wire]:
        with self._read() as conn:
            rows = conn.execute("SELECT setting FROM sync_settings").fetchall()
        settings = [dict(json.loads(row[0])) for row in rows] if rows else default_settings()
        return sorted(settings, key=lambda s: (s["syncOrder"], s["dataType"]))

    def set_sync_settings(self, settings: Sequence[Mapping[str, Any]]) -> None:
        """Replace the account's sync settings with these (one per data type)."""
        with self._write() as conn:
            conn.execute("DELETE FROM sync_settings")
            conn.executemany(
                "INSERT INTO sync_settings (data_type, setting) VALUES (?, ?)",
                [(s["dataType"], json.dumps(dict(s))) for s in settings],
            )

    # ------------------------------------------------------------------ data status

    def _linked_accounting(self, conn: Any, company_id: str) -> tuple[bool, bool]:
        """(has a Linked accounting connection, that connection has an Active error)."""
        row = conn.execute(
            "SELECT id FROM connections WHERE company_id = ? AND source_type = ? AND status = ?"
            " ORDER BY seq DESC LIMIT 1",
            (company_id, ACCOUNTING, LINKED),
        ).fetchone()
        if row is None:
            return False, False
        error = conn.execute(
            "SELECT 1 FROM connection_errors WHERE connection_id = ? AND status = ? LIMIT 1",
            (row[0], ERROR_ACTIVE),
        ).fetchone()
        return True, error is not None

    def _ensure_rows(self, conn: Any, company_id: str, now: float) -> None:
        if conn.execute(
            "SELECT 1 FROM data_status WHERE company_id = ? LIMIT 1", (company_id,)
        ).fetchone():
            return
        rows = []
        for setting in self.sync_settings():
            fetched = bool(setting.get("fetchOnFirstLink"))
            sync_id = str(uuid.uuid4())
            rows.append(
                (
                    company_id,
                    setting["dataType"],
                    now if fetched else None,
                    COMPLETE if fetched else INITIAL,
                    sync_id,
                    sync_id if fetched else None,
                )
            )
        conn.executemany(
            "INSERT INTO data_status (company_id, data_type, last_success, status, sync_id,"
            " success_id) VALUES (?, ?, ?, ?, ?, ?)",
            rows,
        )

    def data_status(self, company_id: str) -> dict[str, Wire]:
        """Codat's `DataStatuses` for the company, as of the store's clock."""
        now = self.clock()
        schedules = {s["dataType"]: int(s.get("syncSchedule") or 0) for s in self.sync_settings()}
        with self._on_company(company_id) as conn:
            linked, erroring = self._linked_accounting(conn, company_id)
            if (
                not linked
                and not conn.execute(
                    "SELECT 1 FROM data_status WHERE company_id = ? LIMIT 1", (company_id,)
                ).fetchone()
            ):
                return {}
            self._ensure_rows(conn, company_id, now)
            rows = conn.execute(
                "SELECT data_type, last_success, status, sync_id, success_id, stopped, failing"
                " FROM data_status WHERE company_id = ? ORDER BY data_type",
                (company_id,),
            ).fetchall()
        answer: dict[str, Wire] = {}
        for data_type, last, status, sync_id, success_id, stopped, failing in rows:
            hours = schedules.get(data_type, 0)
            syncing = linked and not erroring and not stopped and not failing and last is not None
            if syncing and hours > 0:
                tick = now - (now % (hours * 3600))
                if tick > last:
                    last, status = tick, COMPLETE
                    sync_id = success_id = str(uuid.uuid5(uuid.UUID(sync_id), str(tick)))
            if (erroring or failing) and last is not None:
                status = FETCH_ERROR
            wire: Wire = {"dataType": data_type, "currentStatus": status, "latestSyncId": sync_id}
            if last is not None:
                wire["lastSuccessfulSync"] = iso(last)
            if success_id is not None:
                wire["latestSuccessfulSyncId"] = success_id
            answer[data_type] = wire
        return answer

    def refresh_all(self, company_id: str) -> bool:
        """Refresh every data type that fetches on first link; False without a Linked accounting
        connection (NotFound without the company)."""
        now = self.clock()
        fetched = [s["dataType"] for s in self.sync_settings() if s.get("fetchOnFirstLink")]
        with self._on_company(company_id) as conn:
            linked, erroring = self._linked_accounting(conn, company_id)
            if not linked:
                return False
            self._ensure_rows(conn, company_id, now)
            for data_type in fetched:
                sync_id = str(uuid.uuid4())
                conn.execute(
                    "INSERT INTO data_status (company_id, data_type, status, sync_id)"
                    " VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    (company_id, data_type, INITIAL, sync_id),
                )
                conn.execute(
                    "UPDATE data_status SET sync_id = ?,"
                    " status = CASE WHEN failing OR ? THEN ? ELSE ? END,"
                    " last_success = CASE WHEN failing OR ? THEN last_success ELSE ? END,"
                    " success_id = CASE WHEN failing OR ? THEN success_id ELSE ? END,"
                    " stopped = CASE WHEN failing OR ? THEN stopped ELSE 0 END"
                    " WHERE company_id = ? AND data_type = ?",
                    (
                        sync_id,
                        erroring,
                        FETCH_ERROR,
                        COMPLETE,
                        erroring,
                        now,
                        erroring,
                        sync_id,
                        erroring,
                        company_id,
                        data_type,
                    ),
                )
            self._record_refresh(conn, company_id, fetched, iso(now))
        return True

    def _record_refresh(
        self, conn: Any, company_id: str, fetched: Sequence[str], requested: str
    ) -> None:
        connection = conn.execute(
            "SELECT id FROM connections WHERE company_id = ? AND source_type = ? AND status = ?"
            " ORDER BY seq DESC LIMIT 1",
            (company_id, ACCOUNTING, LINKED),
        ).fetchone()
        statuses = dict(
            conn.execute(
                "SELECT data_type, status FROM data_status WHERE company_id = ?", (company_id,)
            ).fetchall()
        )
        done = [(t, statuses.get(t, FETCH_ERROR)) for t in fetched]
        pulls.record_pulls(conn, company_id, connection[0], done, requested)

    def pull_operations(
        self,
        company_id: str,
        page: int,
        page_size: int,
        query: Query | None = None,
        order: Ordering | None = None,
    ) -> tuple[list[Wire], int]:
        """A page of the company's pull operations and their number (NotFound without it)."""
        where = where_company(pulls.PULL_FIELDS, query, company_id)
        ordered = order_sql(pulls.PULL_FIELDS, order, "seq")
        with self._on_company(company_id, write=False) as conn:
            rows, total = select_page(
                conn, pulls.PULL_COLUMNS, "pull_operations", where, ordered, page, page_size
            )
            return [pulls.pull_wire(tuple(row)) for row in rows], total

    def set_data_status(
        self,
        company_id: str,
        *,
        data_types: Sequence[str] = (),
        age_seconds: float | None = None,
        stopped: bool | None = None,
        failing: bool | None = None,
    ) -> dict[str, Wire]:
        """The platform's side (`sandbox data-status`): backdate the last successful sync, stop
        or resume the scheduled syncs, make syncs fail or succeed; the data statuses after."""
        now = self.clock()
        with self._on_company(company_id) as conn:
            self._ensure_rows(conn, company_id, now)
            chosen = list(data_types) or [
                row[0]
                for row in conn.execute(
                    "SELECT data_type FROM data_status WHERE company_id = ?", (company_id,)
                )
            ]
            for data_type in chosen:
                conn.execute(
                    "INSERT INTO data_status (company_id, data_type, status, sync_id)"
                    " VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    (company_id, data_type, INITIAL, str(uuid.uuid4())),
                )
                if age_seconds is not None:
                    conn.execute(
                        "UPDATE data_status SET last_success = ?, status = ?"
                        " WHERE company_id = ? AND data_type = ?",
                        (now - age_seconds, COMPLETE, company_id, data_type),
                    )
                if stopped is not None:
                    conn.execute(
                        "UPDATE data_status SET stopped = ? WHERE company_id = ? AND data_type = ?",
                        (int(stopped), company_id, data_type),
                    )
                if failing is not None:
                    conn.execute(
                        "UPDATE data_status SET failing = ? WHERE company_id = ? AND data_type = ?",
                        (int(failing), company_id, data_type),
                    )
        return self.data_status(company_id)

    # ------------------------------------------------------------------ deleted records

    def delete_record(self, company_id: str, kind: str, record_id: str) -> None:
        if kind not in RECORD_KINDS:
            raise ValueError(f"unknown record kind {kind!r}")
        with self._on_company(company_id) as conn:
            conn.execute(
                "INSERT INTO deleted_records (company_id, kind, record_id) VALUES (?, ?, ?)"
                " ON CONFLICT DO NOTHING",
                (company_id, kind, record_id),
            )

    def deleted_records(self, company_id: str, kind: str) -> frozenset[str]:
        with self._read() as conn:
            return frozenset(
                row[0]
                for row in conn.execute(
                    "SELECT record_id FROM deleted_records WHERE company_id = ? AND kind = ?",
                    (company_id, kind),
                )
            )
