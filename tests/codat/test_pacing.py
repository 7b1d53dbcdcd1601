"""The pacer (`reconcile.codat.pacing`): at most N starts in any 60 seconds, exactly; waiters in
the order they came; never waiting past the deadline; a pause holds every start. Virtual time
(`tests.support.virtual_time`): the waits are exact and nothing sleeps on the wall clock."""

from __future__ import annotations

import asyncio
import random

import pytest

from reconcile.codat.pacing import (
    CODAT_REQUESTS_PER_MINUTE,
    Pacer,
    requests_per_minute,
)
from tests.support.virtual_time import clock, run_virtual


def pacer(per_window: int | None) -> Pacer:
    return Pacer(per_window, clock=clock, sleep=asyncio.sleep)


def most_in_a_window(starts: list[float], window: float = 60.0) -> int:
    """The most starts any half-open window of `window` seconds holds."""
    ordered = sorted(starts)
    return max(sum(1 for t in ordered if s <= t < s + window) for s in ordered) if ordered else 0


def test_the_n_plus_first_start_waits_exactly_for_the_first_to_leave_the_window() -> None:
    async def main() -> list[float]:
        paced = pacer(3)
        starts = []
        for _ in range(7):
            assert await paced.start(None)
            starts.append(clock())
        return starts

    assert run_virtual(main) == [0.0, 0.0, 0.0, 60.0, 60.0, 60.0, 120.0]


def test_spread_starts_wait_for_the_oldest_of_the_last_n() -> None:
    async def main() -> list[float]:
        paced = pacer(2)
        starts = []
        for gap in (0.0, 10.0, 5.0, 0.0, 50.0):
            await asyncio.sleep(gap)
            assert await paced.start(None)
            starts.append(clock())
        return starts

    # 0, 10; the third waits for 0 to leave (60); the fourth for 10 (70); the fifth comes at
    # 120 (70 + 50), when 60 has left the window already.
    assert run_virtual(main) == [0.0, 10.0, 60.0, 70.0, 120.0]


@pytest.mark.parametrize("seed", range(5))
def test_no_window_ever_holds_n_plus_one_starts(seed: int) -> None:
    """Many concurrent callers arriving at random (a token bucket with a burst of N fails
    this: it lets 2N start within one window)."""
    rng = random.Random(seed)
    arrivals = sorted(rng.uniform(0, 300) for _ in range(200))

    async def main() -> list[float]:
        paced = pacer(10)
        starts: list[float] = []

        async def one(at: float) -> None:
            await asyncio.sleep(at)
            assert await paced.start(None)
            starts.append(clock())

        await asyncio.gather(*(one(at) for at in arrivals))
        return starts

    starts = run_virtual(main)
    assert len(starts) == 200
    assert most_in_a_window(starts) == 10
    # Paced, not throttled beyond need: each starts on arrival or as the 10th before it leaves
    # the window, whichever is later.
    expected: list[float] = []
    for n, at in enumerate(arrivals):
        expected.append(max(at, expected[n - 10] + 60.0) if n >= 10 else at)
    assert starts == pytest.approx(expected)


def test_waiters_start_in_the_order_they_came() -> None:
    async def main() -> list[int]:
        paced = pacer(1)
        order: list[int] = []

        async def one(n: int) -> None:
            await asyncio.sleep(n * 0.001)  # they queue in this order
            assert await paced.start(None)
            order.append(n)

        await asyncio.gather(*(one(n) for n in reversed(range(8))))
        return order

    assert run_virtual(main) == list(range(8))


def test_a_turn_past_the_deadline_is_not_waited_for_nor_counted() -> None:
    async def main() -> tuple[list[bool], float, list[float]]:
        paced = pacer(1)
        got = [await paced.start(None)]
        got.append(await paced.start(59.0))  # its turn would come at 60: past the deadline
        refused_at = clock()
        got.append(await paced.start(60.0))  # its turn comes at 60, when the deadline falls
        got.append(await paced.start(61.0))  # within: it waits and starts at 60
        return got, refused_at, [clock()]

    got, refused_at, ended = run_virtual(main)
    assert got == [True, False, False, True]
    assert refused_at == 0.0  # refused at once, not after waiting
    assert ended == [60.0]  # the refused ones took no slot: the next started at 60


def test_a_pause_holds_every_start_until_it_ends() -> None:
    async def main() -> list[float]:
        paced = pacer(None)  # unpaced: only the pause holds
        starts = []
        assert await paced.start(None)
        starts.append(clock())
        paced.pause(2.0)
        paced.pause(1.0)  # a shorter pause does not cut the longer one
        for _ in range(3):
            assert await paced.start(None)
            starts.append(clock())
        return starts

    assert run_virtual(main) == [0.0, 2.0, 2.0, 2.0]


def test_unpaced_and_unpaused_never_waits() -> None:
    async def main() -> float:
        paced = pacer(None)
        for _ in range(5000):
            assert await paced.start(None)
        return clock()

    assert run_virtual(main) == 0.0


@pytest.mark.parametrize(
    ("setting", "url", "pace"),
    [
        (None, "https://api.codat.io", CODAT_REQUESTS_PER_MINUTE),
        (None, "https://codat-relay.example.com", CODAT_REQUESTS_PER_MINUTE),
        (None, "http://127.0.0.1:8765", None),
        (None, "http://[::1]:8765", None),
        (None, "http://localhost:8765", None),
        (0, "https://api.codat.io", None),
        (30, "http://127.0.0.1:8765", 30),
        (500, "https://api.codat.io", 500),
    ],
)
def test_the_pace_by_setting_and_base_url(setting: int | None, url: str, pace: int | None) -> None:
    assert requests_per_minute(setting, url) == pace


def test_paced_clients_of_one_process_share_the_pacer_of_their_base_url() -> None:
    """Codat counts per IP: one client after another (`plan --env all`) shares the minute."""
    codat = "https://api.codat.io"
    assert Pacer.to(None, codat) is Pacer.to(None, codat) is Pacer.to(1000, codat)
    assert Pacer.to(500, codat) is not Pacer.to(None, codat)  # another pace: its own
    assert Pacer.to(None, "https://relay.example.com") is not Pacer.to(None, codat)
    loopback = "http://127.0.0.1:8765"
    assert Pacer.to(None, loopback) is not Pacer.to(None, loopback)  # unpaced: each its own


def test_one_pacer_serves_one_event_loop_after_another() -> None:
    """Waiters bind the turn's lock to their loop; a later run (another `asyncio.run`) gets a
    fresh lock instead of an error."""
    paced = Pacer(1, clock=clock, sleep=asyncio.sleep)

    async def main() -> list[float]:
        paced._starts.clear()  # each run's virtual clock starts again at 0
        paced.pause(1.0)  # the first holds the turn while it waits: the second queues on it
        starts: list[float] = []

        async def one() -> None:
            assert await paced.start(None)
            starts.append(clock())

        await asyncio.gather(one(), one())  # the second waits on the lock for the first
        return starts

    assert run_virtual(main) == [1.0, 61.0]
    assert run_virtual(main) == [1.0, 61.0]


def test_a_pace_below_one_is_refused() -> None:
    with pytest.raises(ValueError):
        Pacer(0)
