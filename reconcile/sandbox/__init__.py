"""A local, stateful, spec-faithful Codat: ASGI app, SQLite store, fault injection.

It implements Codat and only Codat: nothing here imports the reconciler.
"""
