"""Reads of Codat that are not the planner's live state (see DESIGN §2)."""
