"""`reconcile converge`: one pass that applies only what the file pre-approves (`policy.auto`).

    result = await run_pass(desired, client)                       # run.py: read, plan, apply
    sorted_out = classify(plan, policy, companies=..., now=...)    # classify.py: pure

`classify` sorts a plan by who must act (the one model of it is `reconcile.model.who`):
converge, watch and audit all use it. Importing
it (or this package) loads no client: `run_pass` and `PassResult` are imported on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reconcile.converge.classify import Classified, classify, policy_kind

if TYPE_CHECKING:
    from reconcile.converge.run import PassResult, run_pass

__all__ = ["Classified", "PassResult", "classify", "policy_kind", "run_pass"]


def __getattr__(name: str) -> Any:
    if name in ("PassResult", "run_pass"):
        from reconcile.converge import run

        return getattr(run, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
