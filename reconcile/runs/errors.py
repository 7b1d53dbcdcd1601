"""How a run stops: `RunError`, a message that says what went wrong and what to do."""

from __future__ import annotations


class RunError(Exception):
    """The run cannot go on; nothing more is sent to Codat. The command line prints the
    message after `Error: ` and exits 1."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message
