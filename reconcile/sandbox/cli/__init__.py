"""`reconcile sandbox ...`: serve (`main.py`), the customer's side (`customer.py`: authorize,
deauthorize, connection errors) and webhook consumers (`webhooks.py`)."""

from reconcile.sandbox.cli.main import UID_TAG, sandbox

__all__ = ["UID_TAG", "sandbox"]
