"""Reads of Codat that are not the planner's live state (see docs/design.md §2): `links` (the
Link URLs the notifications carry, read at send time), `onboarding` (where each declared customer
is in the onboarding funnel, from one read)."""
