"""The cross-cutting layers around Codat's routes (`stack.wrap` stacks them): request log,
guards, faults, rate limits, idempotency and latency; `common.py` holds what they share and
`unit.py` the one SQLite transaction a request writes in."""

from reconcile.sandbox.layers.stack import wrap

__all__ = ["wrap"]
