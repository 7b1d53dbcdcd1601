"""Codat's routes: `routes.py` gathers them (with Basic auth and error bodies); one module per
area of the API (companies, connections, data, expenses, profile, webhooks), `common.py` for what
the handlers share."""
