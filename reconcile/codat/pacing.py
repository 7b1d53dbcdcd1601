"""Pacing: at most N requests started in any 60 seconds, and one pause for the whole client.

Codat allows 1,000 requests a minute per IP (the project's facts on Codat, `SOURCE.md` beside
its OpenAPI documents, "Rate limits"); over it, 429s with a `Retry-After`. A full plan reads
thousands of expense configs, the watch tens of thousands a day: unpaced, they would meet 429
storms, each request retrying on its own until some gave up. So `CodatClient.request` asks
`Pacer.start` before every attempt, retries included:

- **A sliding log** of the last N start times: a request starts at `t` only when the N-th
  latest start is at least `WINDOW_SECONDS` before `t`, so no 60-second window ever holds N + 1
  starts (a token bucket with a burst of N would allow 2N in one).
- **In turn** (FIFO): one waiter at a time holds the turn (`asyncio.Lock` wakes its waiters in
  the order they came), so a read queued first starts first.
- **Within the deadline**: a turn that would come at or after the client's deadline is not
  waited for; `start` returns False and the client raises `DeadlineExceeded` (nothing sent).
- **A shared pause**: a 429 with a `Retry-After` (not the daily quota) holds every new attempt
  of the client until then (`pause`), not only the request that got it: a burst stops hammering.

N is `ClientSettings.requests_per_minute`, resolved by `requests_per_minute`: by default Codat's
figure off loopback (Codat's servers, or a relay in front of them on the same IP), none on a
loopback sandbox (which states its own, `sandbox serve --minute-limit`); 0 turns pacing off.
Codat counts per IP, so the clients of one process to one base URL share one pacer (`Pacer.to`).
docs/design.md §10 says what this means for a full plan.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from reconcile.loopback import is_loopback

# Codat's documented limit per IP (SOURCE.md, "Rate limits": 1,000 requests a minute per IP).
CODAT_REQUESTS_PER_MINUTE = 1000
WINDOW_SECONDS = 60.0

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


def requests_per_minute(setting: int | None, base_url: str) -> int | None:
    """The pace for `base_url` (None: unpaced). `setting` None: Codat's figure unless the URL is
    loopback; 0: unpaced; otherwise that many a minute."""
    if setting is None:
        host = urlsplit(base_url).hostname or ""
        return None if is_loopback(host) else CODAT_REQUESTS_PER_MINUTE
    return setting or None


class Pacer:
    """Starts at most `per_window` requests in any `window` seconds (None: no limit), in turn;
    holds every start through a `pause`. `clock` and `sleep` are injectable (tests)."""

    def __init__(
        self,
        per_window: int | None,
        *,
        window: float = WINDOW_SECONDS,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if per_window is not None and per_window < 1:
            raise ValueError("a pace is at least one request a window")
        self.per_window = per_window
        self.window = window
        self._clock = clock
        self._sleep = sleep
        self._starts: deque[float] = deque()  # the last `per_window` start times, oldest first
        self._paused_until = -math.inf
        self._turn = asyncio.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None  # the one `_turn` may be bound to

    @classmethod
    def to(cls, setting: int | None, base_url: str, sleep: Sleep = asyncio.sleep) -> Pacer:
        """The pacer at `requests_per_minute(setting, base_url)`: when paced, one per base URL
        and pace in the process, so clients one after another (each environment of `plan --env
        all`) share the minute as they share the IP; a client's own when unpaced (its pauses
        are then its own) or with an injected `sleep`."""
        pace = requests_per_minute(setting, base_url)
        if pace is None or sleep is not asyncio.sleep:
            return cls(pace, sleep=sleep)
        key = (base_url, pace)
        if key not in _SHARED:
            _SHARED[key] = cls(pace)
        return _SHARED[key]

    def pause(self, seconds: float) -> None:
        """Hold every start for `seconds` from now (a longer pause already set stands)."""
        self._paused_until = max(self._paused_until, self._clock() + seconds)

    def _wait(self, now: float) -> float:
        wait = self._paused_until - now
        if self.per_window is not None and len(self._starts) >= self.per_window:
            wait = max(wait, self._starts[0] + self.window - now)
        return wait

    async def start(self, time_left: float | None) -> bool:
        """Wait for this request's turn and count it as started; False, counting nothing, when
        the turn would come `time_left` seconds from now or later (None: no deadline)."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # a lock serves one event loop: a new run gets its own
            self._loop, self._turn = loop, asyncio.Lock()
        unpaced = self.per_window is None and not self._turn.locked()
        if unpaced and self._paused_until <= self._clock():
            return True  # nothing to wait for or to count
        until = math.inf if time_left is None else self._clock() + time_left
        async with self._turn:
            now = self._clock()
            while (wait := self._wait(now)) > 0:
                if now + wait >= until:
                    return False
                await self._sleep(wait)
                now = max(self._clock(), now + wait)  # the sleep is trusted to have slept
            if now >= self._paused_until:
                self._paused_until = -math.inf
            if self.per_window is not None:
                self._starts.append(now)
                if len(self._starts) > self.per_window:
                    self._starts.popleft()
            return True


# The paced pacers of this process, by base URL and pace (`Pacer.to`).
_SHARED: dict[tuple[str, int], Pacer] = {}
