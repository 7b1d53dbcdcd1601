"""Reads of Codat that are not the planner's live state (see docs/design.md §2)."""
