"""The key's account (`GET /profile`): which Codat account a run talks to."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

from reconcile.codat import CodatClient

T = TypeVar("T")


async def account_name(client: CodatClient) -> str:
    """The account's name. A client that already confirmed its expected account (an
    environment's `account:`) knows it without asking again."""
    if client.settings.expected_account is not None and client.account_confirmed:
        return client.settings.expected_account
    return (await client.get_profile()).name


async def with_account(client: CodatClient, read: Awaitable[T]) -> tuple[T, str]:
    """What `read` returns and the key's account, for one `GET /profile` at the most and no
    added wall time: a client that expects an account confirms it before the read's first
    request (so naming it costs nothing more); any other asks beside the read. The read's
    failure wins over the account's; both are awaited, so neither is left running."""
    if client.settings.expected_account is not None:
        got = await read
        return got, await account_name(client)
    got_or_error, name_or_error = await asyncio.gather(
        read, account_name(client), return_exceptions=True
    )
    if isinstance(got_or_error, BaseException):
        raise got_or_error
    if isinstance(name_or_error, BaseException):
        raise name_or_error
    return got_or_error, name_or_error


async def confirm_account(client: CodatClient) -> None:
    """The key belongs to the expected account (an environment's `account:`), or the run
    stops: before a long-running run serves anything."""
    await client.confirm_account()
