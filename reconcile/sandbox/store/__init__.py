"""The sandbox's state in one SQLite file: `Store` (Codat's rules, `store.py`), its SQLite
plumbing (`db.py`), SQL text and wire shapes (`sql.py`), the process's write lock (`writer.py`),
the query language (`filters.py`) and the data a company's platform serves (`mapping.py`,
`accounting_data.py`)."""

from reconcile.sandbox.registry import DEFAULT_BASE_URL as DEFAULT_BASE_URL
from reconcile.sandbox.store.sql import COMPANY_FIELDS as COMPANY_FIELDS
from reconcile.sandbox.store.sql import CONNECTION_FIELDS as CONNECTION_FIELDS
from reconcile.sandbox.store.sql import UNSET as UNSET
from reconcile.sandbox.store.sql import Conflict as Conflict
from reconcile.sandbox.store.sql import NotFound as NotFound
from reconcile.sandbox.store.sql import StoreError as StoreError
from reconcile.sandbox.store.sql import UnknownPlatform as UnknownPlatform
from reconcile.sandbox.store.sql import Wire as Wire
from reconcile.sandbox.store.store import Store as Store
