"""The sandbox's state in one SQLite file: `Store` (Codat's rules, `store.py`), its SQLite
plumbing (`db.py`), SQL text and wire shapes (`sql.py`), the process's write lock (`writer.py`),
the query language (`filters.py`) and the data a company's platform serves (`mapping.py`,
`accounting_data.py`)."""

from reconcile.sandbox.store.store import (
    COMPANY_FIELDS,
    CONNECTION_FIELDS,
    DEFAULT_BASE_URL,
    UNSET,
    Conflict,
    NotFound,
    Store,
    StoreError,
    UnknownPlatform,
    Wire,
)

__all__ = [
    "COMPANY_FIELDS",
    "CONNECTION_FIELDS",
    "DEFAULT_BASE_URL",
    "UNSET",
    "Conflict",
    "NotFound",
    "Store",
    "StoreError",
    "UnknownPlatform",
    "Wire",
]
