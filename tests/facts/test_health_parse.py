"""The health reads' parsing of Codat's answers: what the specs allow, and what they do not
(left out, never a crash)."""

from __future__ import annotations

from datetime import UTC, datetime

from reconcile.facts.health import parse_data_status, parse_sync_schedules


def test_data_status_entries_and_odd_answers() -> None:
    body = {
        "suppliers": {
            "dataType": "suppliers",
            "currentStatus": "Complete",
            "lastSuccessfulSync": "2026-11-01T10:00:00.000Z",
        },
        "taxRates": {"dataType": "taxRates", "currentStatus": "FetchError"},
        "company": {"currentStatus": "Complete", "lastSuccessfulSync": "2026-11-01T10:00:00"},
        "broken": "not an object",
        "bills": {"dataType": "bills", "lastSuccessfulSync": "yesterday"},
    }
    found = {d.data_type: d for d in parse_data_status(body)}
    assert set(found) == {"suppliers", "taxRates", "company", "bills"}
    assert found["suppliers"].last_success == datetime(2026, 11, 1, 10, tzinfo=UTC)
    assert found["taxRates"].last_success is None and found["taxRates"].status == "FetchError"
    assert found["company"].last_success == datetime(2026, 11, 1, 10, tzinfo=UTC)  # naive: UTC
    assert found["bills"].last_success is None and found["bills"].status == "Unknown"
    assert parse_data_status(["a list"]) == ()


def test_sync_schedules() -> None:
    body = {
        "clientId": "x",
        "settings": [
            {"dataType": "suppliers", "syncSchedule": 48},
            {"dataType": "bills", "syncSchedule": 0},
            {"dataType": "taxRates", "syncSchedule": True},
            {"syncSchedule": 24},
            "junk",
        ],
    }
    assert parse_sync_schedules(body) == {"suppliers": 48}
    assert parse_sync_schedules({"settings": "none"}) == {}
    assert parse_sync_schedules(None) == {}
