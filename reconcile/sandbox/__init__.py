"""A local, stateful, spec-faithful Codat: ASGI app, SQLite store, fault injection, and
webhooks (consumers in `api_webhooks`, an outbox filled by triggers in `webhooks_schema`,
delivery by the serving process in `webhooks_delivery`).

It implements Codat and only Codat: nothing here imports the reconciler.
"""
