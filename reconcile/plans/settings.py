"""A change of the account's own settings (an environment's `settings:`), as the planner makes
it (`reconcile.planner.settings`), `plan` and `apply` show and send it, and a saved plan
carries it (`reconcile.plans.file`: `before` is what the plan saw, what staleness compares).
The dataclass lives with the Plan (`reconcile.plans`), which holds them.

- `sync_settings`: `before` {"settings": the account's whole list, as read}, `after`
  {dataType: {field: value}} the named fields the file wants;
- `webhook_consumer`: `before` {"consumers": the live consumers it replaces}, `after` the
  consumer's body (`url`, `eventTypes`, `companyTags`).

`destructive`: it moves the account's webhooks to another host (Codat sends them elsewhere);
it is listed under Destructive and needs the destroy allowance (`--max-destroy`).
"""

from __future__ import annotations

from reconcile.plans import SETTINGS_KINDS, SETTINGS_SIGNS, SettingsChange, SettingsKind

__all__ = ["SETTINGS_KINDS", "SETTINGS_SIGNS", "SettingsChange", "SettingsKind"]
