"""`--notify FILE`: the notifications file of a deployment (watch, converge), read before any
request; a bad file is a clear error (file and line) and exit 1."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from reconcile.cli.common import fail
from reconcile.escape import text as escaped

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

    from reconcile.codat import CodatClient
    from reconcile.notify.config import NotifyConfig
    from reconcile.notify.store import NotifyStore
    from reconcile.notify.watching import WatchNotifier


@dataclass(frozen=True)
class Notifying:
    config: NotifyConfig
    store: NotifyStore

    def start(
        self, client: CodatClient, registry: CollectorRegistry, log: Callable[[str], None]
    ) -> WatchNotifier:
        from reconcile.notify.watching import WatchNotifier

        return WatchNotifier(self.config, self.store, client, registry, log)


def load_notify(path: Path | None, state_dir: Path) -> Notifying | None:
    if path is None:
        return None
    from reconcile.notify.config import NotifyConfigError, load_config
    from reconcile.notify.store import FILE_NAME, NotifyStore, StoreError

    try:
        config = load_config(path)
        store = NotifyStore(state_dir / FILE_NAME)
    except (NotifyConfigError, StoreError) as exc:
        fail(escaped(str(exc)))
    return Notifying(config, store)
