"""codat-reconcile: a declarative reconciler for Codat Sync for Expenses."""

__version__ = "0.1.0"
