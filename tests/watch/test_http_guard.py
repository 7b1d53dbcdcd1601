"""A real `reconcile watch` on loopback holds against cheap attacks on its HTTP surface: a flood
of half-open connections under a low file descriptor limit does not stop /healthz or a valid
delivery, nor fill the log; slow and departing clients are cut off without a traceback."""

from __future__ import annotations

import resource
import signal
import socket
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.watch.helpers import Watch, running_watch, served_codat, write_file

pytestmark = pytest.mark.slow

FD_LIMIT = 256
FLOOD = 300
IGNORED_EVENT = {"eventType": "client.somethingElse", "payload": {}}


def _low_fd_limit() -> Callable[[], None]:
    def limit() -> None:  # runs in the child, before exec
        resource.setrlimit(resource.RLIMIT_NOFILE, (FD_LIMIT, FD_LIMIT))

    return limit


@contextmanager
def half_open(url: str, count: int) -> Iterator[list[socket.socket]]:
    """`count` connections that start a request and never finish its headers."""
    parts = urlsplit(url)
    with ExitStack() as stack:
        socks = []
        for _ in range(count):
            sock = stack.enter_context(socket.create_connection((parts.hostname, parts.port)))
            sock.sendall(b"POST /webhooks/codat HTTP/1.1\r\nHost: x\r\n")
            socks.append(sock)
        yield socks


def closed_by_server(sock: socket.socket, wait: float) -> bool:
    sock.settimeout(wait)
    try:
        return sock.recv(1024) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def _serves(watch: Watch) -> None:
    assert watch.get("/healthz").text == "ok\n"
    delivered = watch.deliver(IGNORED_EVENT)
    assert delivered.status_code == 200, delivered.text
    assert delivered.json()["outcome"] == "ignored"  # verified, then of no use: not refused


def _dropped(watch: Watch) -> dict[str, float]:
    text = watch.get("/metrics").text
    return {
        sample.labels["reason"]: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "reconcile_watch_connections_dropped_total"
    }


def test_a_flood_of_half_open_connections_stops_nothing(tmp_path: Path) -> None:
    with served_codat(tmp_path) as codat:
        desired = write_file(tmp_path / "customers.yaml")
        # Long enough that the flood is open before the first half-open one times out (on a
        # loaded machine 300 connections can take over a second): the cap drops some first.
        args = (str(desired), "--resync", "1h", "--read-deadline", "3")
        with running_watch(codat, *args, preexec=_low_fd_limit()) as watch:
            with half_open(watch.url, FLOOD) as flood:
                _serves(watch)  # at once: past the cap, the oldest half-open one made room
                assert all(closed_by_server(sock, 5) for sock in flood)  # the deadline
            _serves(watch)
            dropped = _dropped(watch)
            assert dropped["cap"] > 0 and dropped["deadline"] > 0, dropped
            assert dropped["cap"] + dropped["deadline"] >= FLOOD, dropped
            assert watch.stop(signal.SIGTERM) == 143
            log = watch.log()
            assert "Traceback" not in log and "Too many open files" not in log, log
            assert len(log.splitlines()) < 10, log


def test_control_without_a_short_deadline_the_flood_stays_open(tmp_path: Path) -> None:
    """The flood is real: with the default deadline the newest half-open connections are still
    open (only those evicted by the cap were closed); the test above can fail."""
    with served_codat(tmp_path) as codat:
        desired = write_file(tmp_path / "customers.yaml")
        with running_watch(codat, str(desired), "--resync", "1h", preexec=_low_fd_limit()) as w:
            with half_open(w.url, FLOOD) as flood:
                _serves(w)
                assert closed_by_server(flood[0], 5)  # evicted: past the cap
                assert not closed_by_server(flood[-1], 1)  # still waiting for its headers
            assert w.stop(signal.SIGTERM) == 143


def test_slow_departing_and_garbled_clients_leave_no_traceback(tmp_path: Path) -> None:
    with served_codat(tmp_path) as codat:
        desired = write_file(tmp_path / "customers.yaml")
        args = (str(desired), "--resync", "1h", "--read-deadline", "0.5")
        with running_watch(codat, *args) as watch:
            parts = urlsplit(watch.url)
            address = (parts.hostname, parts.port)
            start = (
                b"POST /webhooks/codat HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b'Content-Length: 1000\r\n\r\n{"eventType":'
            )
            with socket.create_connection(address) as leaves:
                leaves.sendall(start)  # then goes away mid-body
            with socket.create_connection(address) as resets:
                resets.sendall(start)
                resets.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\0\0\0\0\0\0\0")
            with socket.create_connection(address) as slow:
                slow.sendall(start)  # and never the rest: cut off at the deadline
                assert closed_by_server(slow, 5)
            for _ in range(50):  # not HTTP at all: refused, and not a log line each
                with socket.create_connection(address) as garbled:
                    garbled.sendall(b"NOT HTTP\r\n\r\n")
                    garbled.settimeout(5)
                    assert garbled.recv(1024).startswith(b"HTTP/1.1 400")
            _serves(watch)
            assert watch.stop(signal.SIGTERM) == 143
            log = watch.log()
            assert "Traceback" not in log and len(log.splitlines()) < 10, log
