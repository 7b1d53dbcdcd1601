"""Reads of Codat, turned into facts the runs report (DESIGN §2): `onboarding` says where each
declared customer is in the onboarding funnel, from what one read of Codat saw."""
