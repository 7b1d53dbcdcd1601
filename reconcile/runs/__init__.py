"""The application: plan, apply, saved plans, converge, audit and export as runs.

A run takes what the command line parsed (the desired state, the options, `Where` Codat is),
reads Codat through `reconcile.facts`, plans (`reconcile.planner`), executes
(`reconcile.executor`) and returns data: a `PlanRun` carries the plan and what it read. A run
prints nothing (what it must show while it works, it hands to the hooks the caller gives) and
raises `RunError` with an actionable message when it cannot go on; the command line renders
and picks the exit code.

The package imports nothing itself: each command imports only the runs its path needs.
"""
