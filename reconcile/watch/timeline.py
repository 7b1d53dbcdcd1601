"""Each customer's timeline: what the watch saw and did, when (for its status page).

Bounded: the newest `per_customer` events of each customer, for at most `customers` customers
(the least recently touched are forgotten first). In memory only: a restart starts afresh (the
first pass says where each customer stands). Never a Link URL or a company id."""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Callable
from datetime import UTC, datetime

from reconcile.render.status_view import Event

EVENTS_PER_CUSTOMER = 50
MAX_CUSTOMERS = 20_000


def _now() -> datetime:
    return datetime.now(UTC)


class Timeline:
    def __init__(
        self,
        per_customer: int = EVENTS_PER_CUSTOMER,
        customers: int = MAX_CUSTOMERS,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self.per_customer = per_customer
        self.customers = customers
        self.clock = clock
        self._events: OrderedDict[str, deque[Event]] = OrderedDict()

    def add(self, uid: str, text: str) -> None:
        events = self._events.get(uid)
        if events is None:
            events = self._events[uid] = deque(maxlen=self.per_customer)
            while len(self._events) > self.customers:
                self._events.popitem(last=False)
        else:
            self._events.move_to_end(uid)
        events.append(Event(self.clock(), text))

    def of(self, uid: str) -> tuple[Event, ...]:
        """The customer's events, newest first."""
        return tuple(reversed(self._events.get(uid, ())))
