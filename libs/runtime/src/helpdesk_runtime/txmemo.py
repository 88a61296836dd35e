"""Values a handler reads once per database transaction, however many events it handles in it.

A consumer batch handles a fetched run of records in one transaction (`TransactionalHandler.
batch`): reading configuration (routing's registry, sla's policies and calendars) once per
batch instead of once per event is what keeps the batch cheap. Only data the handlers do not
write belongs here; a memoised value is as fresh as the first read in the transaction, which
is what one event per transaction would have seen had it come first.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection

T = TypeVar("T")

_KEY = "helpdesk_txmemo"


def _values(conn: AsyncConnection) -> dict[Hashable, Any] | None:
    """The memo of `conn`'s current transaction (None outside one)."""
    transaction = conn.sync_connection.get_transaction() if conn.sync_connection else None
    if transaction is None:
        return None
    # conn.info outlives the transaction (it belongs to the pooled connection): the memo
    # holds the transaction it was filled in and starts afresh in the next one. Holding the
    # object keeps its id from being reused by a later transaction.
    held: tuple[Any, dict[Hashable, Any]] | None = conn.info.get(_KEY)
    if held is None or held[0] is not transaction:
        held = (transaction, {})
        conn.info[_KEY] = held
    return held[1]


async def once_per_transaction(
    conn: AsyncConnection, key: Hashable, load: Callable[[], Awaitable[T]]
) -> T:
    """`await load()` the first time `key` is asked for in `conn`'s current transaction."""
    values = _values(conn)
    if values is None:
        return await load()
    if key not in values:
        values[key] = await load()
    return values[key]  # type: ignore[no-any-return]


def kept_for_transaction(conn: AsyncConnection, key: Hashable, make: Callable[[], T]) -> T:
    """The object `make()` built the first time `key` was asked for in this transaction.

    For what a handler fills in as it goes (states it read or wrote): a rolled-back
    transaction takes it along, the next one starts with a fresh `make()`.
    """
    values = _values(conn)
    if values is None:
        return make()
    if key not in values:
        values[key] = make()
    return values[key]  # type: ignore[no-any-return]
