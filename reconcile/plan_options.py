"""What a plan may do: the planner's flags, as the command line gives them (`PlanOptions`).

The planner's own (`reconcile.planner` re-exports it), kept in a leaf module so a command builds
its options without importing the planner: `plan` imports the planner while Codat answers its
first request, not before it sends it (issue 27, benchmarks/RESULTS.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class PlanOptions:
    allow_delete: bool = False
    allow_empty: bool = False
    max_destroy: int | None = None
    targets: frozenset[str] = field(default_factory=frozenset)
    # `plan --base`: the uids the base files list (their entries existed before this change,
    # so an earlier apply made their companies): one with no company was deleted behind the tool.
    existed: frozenset[str] = field(default_factory=frozenset)
    # `plan --base`: the uids whose base entry has an expenseConfig (removing it changes nothing).
    had_config: frozenset[str] = field(default_factory=frozenset)
    # `plan --base`: the uids whose entry the change touches (added, or different from the base's):
    # only their expense configs are read, and those of customers that became Linked
    # (`reconcile.facts.configs`). None: every config is read.
    changed: frozenset[str] | None = None

    def targeted(self, uid: str) -> bool:
        return not self.targets or uid in self.targets
