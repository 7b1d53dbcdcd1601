"""Runs converge passes one at a time: queued companies first, a resync every `resync` seconds.

- Start: a full pass (whatever happened while the watch was down is covered by it): every
  expense config read. A resync reads the listing, what changed in it and a slice of the config
  sweep (`reconcile.watch.resync`); companies a webhook names are read in full at once.
- A pass that fails to reach Codat is logged; queued companies are tried again a little later,
  and the next resync covers the rest.
- Codat's daily quota used up (a pass stopped by it, a 429 saying so, or a
  `client.rateLimit.reached` event): no pass runs until the reset (or a `client.rateLimit.reset`
  event), then a resync.
- The desired files are polled; a change re-reads them and runs a full pass. SIGHUP (and an
  authenticated `POST /resync`) starts a full pass at once, SIGHUP after re-reading the files.
- Log lines name the customer (uid) and what was done or seen, one line each.
- `stop()`: the pass in flight starts nothing new, finishes what it sent, and `run` returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from reconcile.codat.errors import CodatError, QuotaExhausted
from reconcile.escape import text as escaped
from reconcile.executor import Stop, Stopper
from reconcile.watch.events import Hint
from reconcile.watch.metrics import Metrics
from reconcile.watch.passes import Converge, PassReport
from reconcile.watch.reload import DesiredFiles
from reconcile.watch.status import WatchStatus
from reconcile.watch.work import Batch, WorkQueue

Log = Callable[[str], None]
RETRY_AFTER_ERROR_SECONDS = 15.0
QUOTA_PAUSE_UNKNOWN_RESET = timedelta(hours=1)  # when Codat did not say when it resets
POLL_SECONDS = 1.0


class Scheduler:
    def __init__(
        self,
        converge: Converge,
        files: DesiredFiles,
        status: WatchStatus,
        metrics: Metrics,
        *,
        resync_seconds: float,
        log: Log,
        poll_seconds: float = POLL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.converge = converge
        self.files = files
        self.status = status
        self.metrics = metrics
        self.queue = WorkQueue()
        self.resync_seconds = resync_seconds
        self.log = log
        self.poll_seconds = poll_seconds
        self.clock = clock
        self._stopping = asyncio.Event()
        self._stopper: Stopper | None = None
        self._resume = asyncio.Event()
        self.stop_reason: Stop | None = None
        self._reloading = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()

    # ------------------------------------------------------------------ hints from outside

    def hint(self, hint: Hint) -> None:
        """What a verified webhook asks for (called by the receiver; never waits)."""
        if hint.kind == "company" and hint.company_id:
            uid = self.status.hinted(hint)
            if hint.error:
                who = uid or "a company not read yet"
                self.log(
                    f"{escaped(who)}: Codat sent {hint.event_type} reporting {escaped(hint.error)}"
                )
            self.company(hint.company_id)
        elif hint.kind == "quota_reached":
            self.pause_for_quota(hint.resets_at)
        elif hint.kind == "quota_reset":
            self.quota_reset()

    def company(self, company_id: str) -> None:
        self.queue.company(company_id)
        self.status.queued = self.queue.queued

    def pause_for_quota(self, resets_at: datetime | None) -> None:
        until = resets_at or datetime.now(UTC) + QUOTA_PAUSE_UNKNOWN_RESET
        if not self.status.quota_paused or until > (self.status.quota_paused_until or until):
            self.log(
                f"Codat's daily quota is used up: writes paused until {until:%Y-%m-%d %H:%M} UTC"
            )
        self.status.quota_paused = True
        self.status.quota_paused_until = until
        self.metrics.quota_paused.set(1)
        self._resume.clear()

    def quota_reset(self) -> None:
        if self.status.quota_paused:
            self.log("Codat's daily quota was reset: resuming with a resync")
        self._end_pause()
        self.queue.resync()

    def resync(self, why: str) -> None:
        """A full pass as soon as the one in flight ends (`POST /resync`)."""
        self.log(f"{why}: starting a full pass")
        self.queue.full_pass()

    def reload(self, why: str, *, full_pass: bool = False) -> None:
        """Re-read the desired files (SIGHUP: then a full pass, whatever they say): in a thread,
        so deliveries are answered meanwhile."""
        task = asyncio.get_running_loop().create_task(self.reload_now(why, full_pass=full_pass))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def reload_now(self, why: str, *, full_pass: bool = False) -> None:
        async with self._reloading:
            outcome = await asyncio.to_thread(self.files.reload)
            if outcome.error is not None:
                self.log(
                    f"{why}: the desired files are invalid; still using the last good ones: "
                    f"{outcome.error}"
                )
            elif outcome.changed:
                self.log(f"{why}: the desired files changed; running a full pass")
                self.status.desired_loaded_at = datetime.now(UTC)
                self.status.owner = self.files.state.owner
                self.queue.full_pass()
            elif full_pass:
                self.log(f"{why}: the desired files are unchanged; running a full pass")
                self.queue.full_pass()
            self.status.desired_error = outcome.error
            self.metrics.desired_invalid.set(1 if outcome.error else 0)
            if full_pass and outcome.error is not None:
                self.log(f"{why}: running a full pass with the last good files")
                self.queue.full_pass()

    def stop(self, stop: Stop) -> None:
        """Start nothing new; the pass in flight finishes what it sent; `run` returns."""
        if self.stop_reason is None:
            self.stop_reason = stop
        self.status.stopping = True
        if self._stopper is not None:
            self._stopper.set(stop)
        self._stopping.set()
        self._resume.set()

    # ------------------------------------------------------------------ the loop

    async def run(self) -> None:
        poller = asyncio.create_task(self._poll_files())
        try:
            self.queue.full_pass()
            next_resync = self.clock() + self.resync_seconds
            while not self._stopping.is_set():
                if self.status.quota_paused:
                    await self._wait_for_reset()
                    continue
                now = self.clock()
                if now >= next_resync:
                    self.queue.resync()
                batch = self.queue.take()
                if batch is None:
                    await self._idle(next_resync - now)
                    continue
                await self._run_pass(batch)
                if batch.company_ids is None:
                    next_resync = self.clock() + self.resync_seconds
        finally:
            poller.cancel()

    async def _idle(self, seconds: float) -> None:
        waiters = [
            asyncio.create_task(self.queue.wait(max(0.0, seconds))),
            asyncio.create_task(self._stopping.wait()),
        ]
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    async def _wait_for_reset(self) -> None:
        until = self.status.quota_paused_until or datetime.now(UTC)
        seconds = (until - datetime.now(UTC)).total_seconds()
        if seconds > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._resume.wait(), seconds)
        if self._stopping.is_set():
            return
        if self.status.quota_paused:
            self.log("Codat's daily quota should have reset: resuming with a resync")
            self._end_pause()
            self.queue.resync()

    def _end_pause(self) -> None:
        self.status.quota_paused = False
        self.status.quota_paused_until = None
        self.metrics.quota_paused.set(0)
        self._resume.set()

    async def _poll_files(self) -> None:
        while True:
            await asyncio.sleep(self.poll_seconds)
            if self.files.changed_on_disk():
                await self.reload_now("file change")

    async def _run_pass(self, batch: Batch) -> None:
        self._stopper = Stopper()
        count = len(batch.company_ids or ())
        scope = (
            ("full pass" if batch.full else "resync")
            if batch.company_ids is None
            else f"pass of {count} compan" + ("y" if count == 1 else "ies")
        )
        self.status.queued = self.queue.queued
        try:
            report = await self.converge(
                self.files.state, batch.company_ids, self._stopper, batch.full
            )
        except QuotaExhausted as exc:
            self.metrics.passes.labels(_scope(batch), "quota").inc()
            self.pause_for_quota(exc.resets_at)
            self._retry(batch, now=True)
            return
        except CodatError as exc:
            self._failed(batch, f"{scope}: Codat could not be read: {escaped(str(exc))}")
            return
        except Exception as exc:  # a bug must not end a controller: say it, go on
            self._failed(batch, f"{scope}: unexpected {type(exc).__name__}: {escaped(str(exc))}")
            return
        finally:
            self._stopper = None
            self.status.last_pass_at = datetime.now(UTC)
        self._record(report, scope, _scope(batch))

    def _record(self, report: PassReport, scope: str, label: str) -> None:
        self.status.passes += 1
        for uid, what in self.status.record(report):
            self.log(f"{escaped(uid)}: {escaped(what)}")
        outcome = "quota" if report.quota_stopped else ("ok" if report.ok else "failed")
        self.metrics.record_pass(report, outcome, self.status.waiting_counts(), label)
        self.status.last_pass_error = None
        if report.company_ids is None and report.ok and not report.stopped:
            self.status.last_good_resync = datetime.now(UTC)
            self.metrics.last_resync.set(time.time())
        if report.quota_stopped:
            self.pause_for_quota(report.quota_resets_at)
        done = ", ".join(f"{n} {kind}" for kind, n in sorted(report.applied.items())) or "nothing"
        failed = sum(report.failed.values())
        counts = self.status.waiting_counts()
        waits = ", ".join(f"{n} for {who}" for who, n in counts.items() if n) or "nothing"
        reads = self.status.reads.said(report) if self.status.reads is not None else ""
        self.log(
            f"{scope}: applied {done}{f'; {failed} failed' if failed else ''}; "
            f"waiting: {waits} ({report.requests} requests{reads})"
        )

    def _failed(self, batch: Batch, message: str) -> None:
        self.metrics.passes.labels(_scope(batch), "error").inc()
        self.status.last_pass_error = message
        self.log(message)
        self._retry(batch, now=False)

    def _retry(self, batch: Batch, *, now: bool) -> None:
        """Queue the batch's companies again (a pass of the whole fleet waits for the next
        resync)."""
        if batch.company_ids is None:
            if now and batch.full:
                self.queue.full_pass()
            elif now:
                self.queue.resync()
            return

        def again() -> None:
            for company_id in batch.company_ids or ():
                self.queue.company(company_id)

        if now:
            again()
        else:
            asyncio.get_running_loop().call_later(RETRY_AFTER_ERROR_SECONDS, again)


def _scope(batch: Batch) -> str:
    if batch.company_ids is None:
        return "full" if batch.full else "resync"
    return "company"
