"""Plan and result renderers. They format; they never decide."""
