"""Saved plans (`plan --out`, `apply --plan FILE`, `show FILE`): one home for the document,
its signature, its strict reader and its staleness.

- `signing`: the signing key (never the API key), HKDF-derived MAC key and key id;
- `document`: what a saved plan holds, built and signed;
- `reader`: reading one back, cheap and strict, then checking it against this run;
- `staleness`: per action, landed / changed behind the plan / remaining;
- `live`: what it reads of Codat.
"""

from reconcile.plans.file.document import (
    DEFAULT_MAX_AGE,
    MARKER,
    SavedPlan,
    Snapshot,
    build,
    configured,
    customer_digest,
    desired_record,
    dumps,
    settings_digest,
    snapshot,
    touched,
)
from reconcile.plans.file.errors import SavedPlanError
from reconcile.plans.file.reader import (
    MAX_PLAN_BYTES,
    check_account,
    looks_like_plan,
    parse,
    plan_schema,
    read_capped,
    strict_json,
    structure_problems,
    verify,
)
from reconcile.plans.file.signing import SigningKey, signing_key

__all__ = [
    "DEFAULT_MAX_AGE",
    "MARKER",
    "MAX_PLAN_BYTES",
    "SavedPlan",
    "SavedPlanError",
    "SigningKey",
    "Snapshot",
    "build",
    "check_account",
    "configured",
    "customer_digest",
    "desired_record",
    "dumps",
    "looks_like_plan",
    "parse",
    "plan_schema",
    "read_capped",
    "settings_digest",
    "signing_key",
    "snapshot",
    "strict_json",
    "structure_problems",
    "touched",
    "verify",
]
