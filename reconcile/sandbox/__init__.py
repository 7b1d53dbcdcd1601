"""A local, stateful, spec-faithful Codat, by concern:

- `app.py`: the composition root (`create_app`, `create_core`); `options.py` its settings;
  `errors.py` Codat's error bodies; `registry.py` platforms, statuses and tags; `link.py` the
  customer's Link pages.
- `api/`: Codat's routes, one module per area of the API.
- `store/`: the state in one SQLite file (`Store`), its plumbing, SQL and query language.
- `layers/`: the cross-cutting layers around the routes (request log, guards, faults, rate
  limits, idempotency, latency) and the one SQLite transaction a request writes in.
- `webhooks/`: consumers, the outbox its triggers fill, and delivery.
- `seed/`: realistic and messy fleets.
- `cli/`: `reconcile sandbox ...`.

It implements Codat and only Codat: nothing here imports the reconciler.
"""
