"""The key's account (`GET /profile`): which Codat account a run talks to."""

from __future__ import annotations

from reconcile.codat import CodatClient


async def account_name(client: CodatClient) -> str:
    """The account's name. A client that already confirmed its expected account (an
    environment's `account:`) knows it without asking again."""
    if client.settings.expected_account is not None and client.account_confirmed:
        return client.settings.expected_account
    return (await client.get_profile()).name


async def confirm_account(client: CodatClient) -> None:
    """The key belongs to the expected account (an environment's `account:`), or the run
    stops: before a long-running run serves anything."""
    await client.confirm_account()
