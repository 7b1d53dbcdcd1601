"""Facts: every read of Codat, in one home (pyinfra's facts, kept apart from what decides; see
docs/design.md §2).

Each module reads one thing through the client into the live model (`reconcile.model`), and
nothing else in the application sends a GET to Codat (the executor writes; the watch registers
its webhook consumer): `tests/test_architecture.py` holds that line.

- `fleet`: the owner's fleet as a plan needs it (`read_live`: the listing, companies adopted by
  id, uid holders, configs and mapping options): one `LiveState`, the one shape of what a run
  read.
- `holders`: companies outside the owner carrying a uid the plan would create.
- `configs`: expense configs and mapping options, where the planner could act on them (a pull
  request's plan: only where it changes something, or where a customer became Linked).
- `quota`: the quota budget optional reads may spend (the day's quota less a reserve for the
  partner's own app).
- `few`: the fresh read of a few companies (converge of a webhook's hint).
- `snapshot`: the audit's read of every company once, then exactly what a plan reads.
- `saved`: what a saved plan acts on, read again before it is applied.
- `account`: the key's account (`GET /profile`; `plan` reads it beside the listing).
- `export`: what `reconcile export` writes a file from.
- `links`: the Link URLs the notifications carry, read at send time (never kept, never logged).
- `onboarding`: where each declared customer is in the onboarding funnel, from one read (the
  watch's status page, audit `--format html`).
- `health`: each Linked customer's data status and config references, the account's sync
  schedules, and what `policy.auto: [refresh_data]` may refresh; `audit_health`: `audit
  --health`'s reads of them, assessed.
- `settings`: the account's settings as Codat holds them (sync settings, webhook consumers).

The package imports nothing itself: `validate` and `--help` never pay for the client.
"""
