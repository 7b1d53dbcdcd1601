"""The client reads Codat's clock and quota from every answer's headers, parsing the Date and
the reset only when they change: always what parsing each answer afresh gives."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from reconcile.codat.ratelimit import AnswerClock, RateLimit, http_date, read_rate_limit

FIRST = "Sun, 06 Dec 2026 04:00:00 GMT"
NEXT = "Sun, 06 Dec 2026 04:00:01 GMT"


def headers(date: str | None, remaining: str, reset: str) -> dict[str, str]:
    found = {"X-Rate-Limit-Limit": "1000", "X-Rate-Limit-Remaining": remaining}
    found["X-Rate-Limit-Reset"] = reset
    if date is not None:
        found["Date"] = date
    return found


def test_each_answer_reads_as_if_parsed_afresh() -> None:
    clock = AnswerClock()
    answers = [
        headers(FIRST, "10", "60"),  # a reset in seconds from the Date
        headers(FIRST, "9", "60"),
        headers(NEXT, "8", "60"),  # the same header, a second later: a different moment
        headers(NEXT, "7", "1900000000"),
        headers(NEXT, "6", FIRST),
        headers(NEXT, "5", "soon"),
    ]
    for answer in answers:
        now = http_date(answer["Date"])
        assert now is not None
        assert clock.read(answer) == (now, read_rate_limit(answer, now))
    assert clock.read(headers(NEXT, "8", "60"))[1].reset == datetime(
        2026, 12, 6, 4, 1, 1, tzinfo=UTC
    )


def test_without_a_date_our_clock_is_read_each_time() -> None:
    clock = AnswerClock()
    before = datetime.now(UTC)
    now, rate = clock.read(headers(None, "3", "60"))
    assert before <= now <= datetime.now(UTC)
    assert rate == RateLimit(1000, 3, now + timedelta(seconds=60))
    later, _ = clock.read(headers(None, "2", "60"))
    assert later >= now
    unreadable, _ = clock.read({"Date": "not a date"})
    assert unreadable >= later  # our clock, not a cached moment
