"""Idempotent consumers: record each handled event id in the transaction of its effects."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from helpdesk_events.envelope import Envelope
from helpdesk_events.tables import INBOX_TABLE as T

Handler = Callable[[AsyncConnection, Envelope], Awaitable[None]]


@lru_cache(maxsize=4)
def _record_statement(dialect: str) -> Any:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    # Built once: the values go in as parameters (a statement per call costs more CPU in
    # SQLAlchemy's cache-key walk than the round trip).
    return insert(T).on_conflict_do_nothing()


@lru_cache(maxsize=4)
def _record_many_statement(dialect: str) -> Any:
    return _record_statement(dialect).returning(T.c.event_id)


async def record_new(
    conn: AsyncConnection, consumer: str, event_ids: Sequence[uuid.UUID]
) -> set[uuid.UUID]:
    """Record `event_ids` for `consumer` in one statement; the ids recorded now (not before)."""
    # Sorted: two instances recording overlapping runs (after a rebalance) take the unique
    # index's row locks in the same order, so they wait for each other instead of deadlocking.
    unique = sorted(set(event_ids))
    if len(unique) == 1:
        return set(unique) if await record_once(conn, consumer, unique[0]) else set()
    # One multi-row INSERT ... RETURNING (SQLAlchemy's insertmanyvalues) instead of one
    # round trip per event: a consumer batch of a fetched run records all its ids at once.
    result = await conn.execute(_record_many_statement(conn.dialect.name),
                                [{"consumer": consumer, "event_id": i} for i in unique])
    return set(result.scalars())


async def record_once(conn: AsyncConnection, consumer: str, event_id: uuid.UUID) -> bool:
    """Record that `consumer` handled `event_id`; True the first time, False for a redelivery."""
    # On PostgreSQL a concurrent insert of the same id waits for the other transaction and
    # then does nothing: two instances handling one event after a rebalance count it once.
    result = await conn.execute(_record_statement(conn.dialect.name),
                                {"consumer": consumer, "event_id": event_id})
    return result.rowcount == 1


class TransactionalHandler:
    """`handler(conn, envelope)` once per event id, in one transaction with its inbox row.

    Call it with one envelope, or `batch(envelopes)` to handle several in a single
    transaction (one BEGIN/COMMIT, one WAL flush): all of them or, on any error, none (the
    consumer runner then falls back to one transaction per record, to find the culprit).
    """

    def __init__(self, engine: AsyncEngine, consumer_name: str, handler: Handler) -> None:
        self._engine = engine
        self._consumer = consumer_name
        self._handler = handler
        self.__name__ = f"transactional_{getattr(handler, '__name__', 'handler')}"

    async def __call__(self, envelope: Envelope) -> None:
        await self.batch((envelope,))

    async def batch(self, envelopes: Sequence[Envelope]) -> None:
        """Handle `envelopes` in order, in one transaction."""
        if not envelopes:
            return
        async with self._engine.begin() as conn:
            new = await record_new(conn, self._consumer, [e.id for e in envelopes])
            for envelope in envelopes:
                if envelope.id in new:
                    new.discard(envelope.id)  # the same event twice in one run: handled once
                    await self._handler(conn, envelope)


def transactional_handler(engine: AsyncEngine, consumer_name: str, handler: Handler) -> TransactionalHandler:
    """Wrap `handler(conn, envelope)`: once per event id, in one transaction with the inbox row."""
    return TransactionalHandler(engine, consumer_name, handler)
