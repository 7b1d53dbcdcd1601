"""`--notify FILE` of converge, audit and watch: the deployment's notifications file, read before
any request (a bad file is a `RunError` naming file and line), and one CI run's notifications:
what the run saw recorded, what is due sent once (`reconcile.notify`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from reconcile.runs.errors import RunError

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

    from reconcile.codat import CodatClient
    from reconcile.converge import PassResult
    from reconcile.model import DesiredState
    from reconcile.notify.config import NotifyConfig
    from reconcile.notify.store import NotifyStore
    from reconcile.notify.watching import WatchNotifier
    from reconcile.watch.passes import PassRunner

Log = Callable[[str], None]


@dataclass(frozen=True)
class Notifying:
    config: NotifyConfig
    store: NotifyStore

    def start(
        self,
        client: CodatClient,
        registry: CollectorRegistry,
        log: Log,
        run: PassRunner | None = None,
    ) -> WatchNotifier:
        """The watch's notifier: it hears every pass (`run`: the watch's) and delivery, and
        sends in the background."""
        from reconcile.notify.watching import WatchNotifier

        return WatchNotifier(self.config, self.store, client, registry, log, run)


def load_notify(path: Path | None, state_dir: Path) -> Notifying | None:
    """The notifications file and its state (None without --notify)."""
    if path is None:
        return None
    from reconcile.escape import text
    from reconcile.notify.config import NotifyConfigError, load_config
    from reconcile.notify.store import FILE_NAME, NotifyStore, StoreError

    try:
        config = load_config(path)
        store = NotifyStore(state_dir / FILE_NAME)
    except (NotifyConfigError, StoreError) as exc:
        raise RunError(text(str(exc))) from None
    return Notifying(config, store)


async def notify_pass(
    notify: Notifying, client: CodatClient, desired: DesiredState, result: PassResult, log: Log
) -> int:
    """Record what a CI run saw and send what is due (the state is closed after); `log` hears
    the notifier's lines and how many messages landed. Returns that count."""
    from reconcile.notify.once import notify_once

    try:
        landed = await notify_once(notify.config, notify.store, client, desired, result, log)
    finally:
        notify.store.close()
    if landed:
        log(f"Notifications: {landed} sent")
    return landed
