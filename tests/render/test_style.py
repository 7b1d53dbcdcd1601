"""Colour only on a terminal, and never with NO_COLOR (https://no-color.org)."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from typing import TextIO

import pytest

from reconcile.render.style import Style


@pytest.fixture
def tty() -> Iterator[TextIO]:
    """A real terminal: the slave side of a pseudo-terminal."""
    master, slave = os.openpty()
    stream = os.fdopen(slave, "w")
    try:
        yield stream
    finally:
        stream.close()
        os.close(master)


def test_colour_on_a_terminal(tty: TextIO, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert Style.for_stream(tty).enabled
    assert Style.for_stream(tty)("x", "red") == "\x1b[31mx\x1b[0m"


@pytest.mark.parametrize("value", ["1", "0", "false", ""])
def test_never_with_no_color_whatever_its_value(
    value: str, tty: TextIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", value)
    style = Style.for_stream(tty)
    assert not style.enabled and style("x", "red") == "x"


def test_never_on_a_pipe_or_a_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    read, write = os.pipe()
    with os.fdopen(write, "w") as pipe:
        assert not Style.for_stream(pipe).enabled
    os.close(read)
    assert not Style.for_stream(io.StringIO()).enabled
