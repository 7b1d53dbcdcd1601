"""Progress while applying, on stderr.

- On a terminal (`BarProgress`): one line redrawn in place with a carriage return: actions done
  of total, failures so far, the rate and the time left. A customer whose action failed or was
  refused is printed above the bar as it finishes.
- Elsewhere, e.g. CI logs (`LineProgress`): one plain line per customer as it finishes, in the
  plan's words, and a heartbeat line whenever nothing was printed for `heartbeat` seconds
  (also while retries wait), so a long run never looks hung.

The apply loop calls `tick()` about once a second.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from typing import Protocol, TextIO

from reconcile.executor import Outcome
from reconcile.plans import CustomerChange
from reconcile.render.apply import customer_line
from reconcile.render.style import Style

Clock = Callable[[], float]
HEARTBEAT_SECONDS = 30.0
BAR_WIDTH = 20
REDRAW_SECONDS = 0.1


class Progress(Protocol):
    def start(self, total: int) -> None: ...
    def action(self, outcome: Outcome) -> None: ...
    def customer(self, change: CustomerChange, outcomes: Sequence[Outcome]) -> None: ...
    def note(self, message: str) -> None: ...
    def tick(self) -> None: ...
    def finish(self) -> None: ...


class _Counts:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.total = 0
        self.done = 0
        self.failed = 0
        self.started = clock()

    def add(self, outcome: Outcome) -> None:
        self.done += 1
        if outcome.status in ("failed", "refused"):
            self.failed += 1

    def rate(self) -> float:
        elapsed = self.clock() - self.started
        return self.done / elapsed if elapsed > 0 else 0.0

    def eta(self) -> float | None:
        """Seconds left at the rate so far, None before anything finished."""
        rate = self.rate()
        return (self.total - self.done) / rate if self.done and rate > 0 else None

    def left(self) -> str:
        eta = self.eta()
        return "time left unknown" if eta is None else f"about {duration(eta)} left"

    def elapsed(self) -> str:
        return duration(self.clock() - self.started)


def duration(seconds: float) -> str:
    whole = int(seconds + 0.5)
    if whole < 60:
        return f"{whole} s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def clock(seconds: float | None) -> str:
    """`0:05`, `12:30`, `1:02:03`; `?` when unknown."""
    if seconds is None:
        return "?"
    minutes, secs = divmod(int(seconds + 0.5), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class BarProgress:
    def __init__(self, stream: TextIO, style: Style, clock: Clock = time.monotonic) -> None:
        self.stream, self.style = stream, style
        self.counts = _Counts(clock)
        self._drawn_at = float("-inf")
        self._visible = False

    def start(self, total: int) -> None:
        self.counts.total = total
        self._draw(force=True)

    def action(self, outcome: Outcome) -> None:
        self.counts.add(outcome)
        self._draw(force=self.counts.done == self.counts.total)

    def customer(self, change: CustomerChange, outcomes: Sequence[Outcome]) -> None:
        if any(o.status in ("failed", "refused") for o in outcomes):
            self._above(self.style(customer_line(change, outcomes), "red"))

    def note(self, message: str) -> None:
        self._above(message)

    def tick(self) -> None:
        self._draw(force=True)

    def finish(self) -> None:
        self._clear()
        self.stream.flush()

    def line(self) -> str:
        c = self.counts
        filled = BAR_WIDTH * c.done // c.total if c.total else BAR_WIDTH
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        line = (
            f"Applying [{bar}] {c.done}/{c.total} actions, {c.failed} failed, "
            f"{c.rate():.1f}/s, ETA {clock(c.eta())}"
        )
        return line[: self._width() - 1]  # one row, or the carriage return cannot redraw it

    def _width(self) -> int:
        try:
            columns = os.get_terminal_size(self.stream.fileno()).columns
        except (OSError, ValueError, AttributeError):
            columns = 0
        return columns or 80  # a terminal that reports no size (0 columns)

    def _draw(self, *, force: bool) -> None:
        now = self.counts.clock()
        if not force and now - self._drawn_at < REDRAW_SECONDS:
            return
        self._drawn_at = now
        self.stream.write("\r" + self.line() + "\x1b[K")
        self.stream.flush()
        self._visible = True

    def _clear(self) -> None:
        if self._visible:
            self.stream.write("\r\x1b[K")
            self._visible = False

    def _above(self, message: str) -> None:
        self._clear()
        self.stream.write(message + "\n")
        self._draw(force=True)


class LineProgress:
    def __init__(
        self, stream: TextIO, heartbeat: float = HEARTBEAT_SECONDS, clock: Clock = time.monotonic
    ) -> None:
        self.stream, self.heartbeat = stream, heartbeat
        self.counts = _Counts(clock)
        self._printed_at = self.counts.started

    def start(self, total: int) -> None:
        self.counts.total = total
        self._print(f"Applying {total} action{'' if total == 1 else 's'}.")

    def action(self, outcome: Outcome) -> None:
        self.counts.add(outcome)

    def customer(self, change: CustomerChange, outcomes: Sequence[Outcome]) -> None:
        self._print(customer_line(change, outcomes))

    def note(self, message: str) -> None:
        self._print(message)

    def tick(self) -> None:
        if self.counts.clock() - self._printed_at >= self.heartbeat:
            c = self.counts
            self._print(
                f"Still applying: {c.done} of {c.total} actions done, {c.failed} failed, "
                f"{c.elapsed()} elapsed, {c.left()}."
            )

    def finish(self) -> None:
        self.stream.flush()

    def _print(self, line: str) -> None:
        self.stream.write(line + "\n")
        self.stream.flush()
        self._printed_at = self.counts.clock()


def for_stream(stream: TextIO, style: Style, heartbeat: float = HEARTBEAT_SECONDS) -> Progress:
    """A bar on a terminal, plain lines elsewhere."""
    isatty = getattr(stream, "isatty", None)
    if isatty is not None and isatty():
        return BarProgress(stream, style)
    return LineProgress(stream, heartbeat)
