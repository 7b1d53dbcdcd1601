"""Codat's webhooks: consumers and the outbox (`store.py`), the outbox's table and triggers
(`schema.py`), event bodies (`events.py`) and delivery by the serving process (`delivery.py`)."""
