"""Durations now live in `reconcile.durations` (plan and watch parse them without importing the
audit); this name stays for the audit's own modules."""

from reconcile.durations import format_age, format_duration, parse_duration

__all__ = ["format_age", "format_duration", "parse_duration"]
