"""The one error of saved plans: a plan that must not be applied (or read), and why."""

from __future__ import annotations


class SavedPlanError(Exception):
    """A saved plan that must not be applied (or read); the message says why and what to do."""
