"""`reconcile converge`: one pass that applies only what the file pre-approves (`policy.auto`).

    result = await run_pass(desired, client)                       # run.py: read, plan, apply
    sorted_out = classify(plan, policy, companies=..., now=...)    # classify.py: pure

`classify` is the one home of "who must act": converge, watch and audit all use it.
"""

from __future__ import annotations

from reconcile.converge.classify import Classified, Waiting, classify, policy_kind
from reconcile.converge.run import PassResult, run_pass

__all__ = ["Classified", "PassResult", "Waiting", "classify", "policy_kind", "run_pass"]
