"""The tags this tool writes on a company, and Codat's limits on tags."""

from __future__ import annotations

OWNER_TAG = "reconcile.owner"
UID_TAG = "reconcile.uid"
# On the company of a `protect: true` customer: it survives the customer leaving the file.
PROTECT_TAG = "reconcile.protect"
PROTECT_VALUE = "true"
RESERVED_TAG_PREFIX = "reconcile."
MAX_TAGS = 10
MAX_USER_TAGS = MAX_TAGS - 2
MAX_USER_TAGS_PROTECTED = MAX_TAGS - 3
MAX_TAG_KEY = 27
MAX_TAG_VALUE = 100
