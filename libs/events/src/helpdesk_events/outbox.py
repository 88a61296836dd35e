"""Transactional outbox: events written with the state change, published by a relay after commit.

Writers call `add_to_outbox(conn, envelopes)` inside the transaction that changes their
state. `OutboxRelay` publishes committed rows in `position` order and deletes them only
after the broker acknowledged every record of the batch: a crash or a send failure
re-sends (duplicates are allowed, consumers are idempotent), nothing is ever lost.

Late commits: on PostgreSQL positions are taken at insert time but become visible at
commit, so a lower position can commit after a higher one. Each row stores the writer's
`pg_current_xact_id()` and the relay reads only rows whose transaction is older than
`pg_snapshot_xmin(pg_current_snapshot())`, i.e. rows whose transaction has ended (a
long transaction delays publishing, never loses it), in position order. Sent rows are
deleted, never tracked by a high-water mark, so a row that commits late is published on
a later pass and can never be skipped. Writers of one key are serialised by the caller
(the event store's version check, or one consumer per partition), so per key position
order is commit order.
SQLite has a single writer, so position order is commit order.

Retention: with `retain` set, the relay copies the rows it deletes into the `published`
table in the same transaction (one INSERT ... SELECT), and prunes copies older than `retain`
now and then. `republish(conn, since)` queues retained envelopes again under their own event
ids: after a memory-only broker lost records nobody had consumed, consumers get them again and
their inboxes drop the ones they had.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from aiokafka import AIOKafkaProducer
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from helpdesk_events.codec import KafkaRecord, encode
from helpdesk_events.envelope import Envelope
from helpdesk_events.tables import OUTBOX_TABLE as T
from helpdesk_events.tables import PUBLISHED_TABLE as P

log = logging.getLogger(__name__)

#: Set in `conn.info` by `add_to_outbox`: the pool can wake the relay when that connection
#: is returned after its transaction (see helpdesk_runtime.runtime).
PENDING_FLAG = "helpdesk_outbox_pending"
#: LISTEN/NOTIFY channel a writer's commit pings (PostgreSQL only).
NOTIFY_CHANNEL = "helpdesk_outbox"
#: pg_try_advisory_xact_lock key: one relay publishes at a time per database, keeping order.
RELAY_LOCK_KEY = 0x6864_6F62  # "hdob"

#: The writing transaction's id (PostgreSQL), stored in each row's `txid`.
CURRENT_TXID = _TXID = sa.cast(sa.cast(sa.func.pg_current_xact_id(), sa.Text), sa.BigInteger)
_XMIN = sa.cast(
    sa.cast(sa.func.pg_snapshot_xmin(sa.func.pg_current_snapshot()), sa.Text), sa.BigInteger
)

#: Built once (cache-friendly). On PostgreSQL the insert also queues the NOTIFY in its
#: RETURNING clause: no extra round trip, delivered once at commit (PostgreSQL folds
#: identical notifications of a transaction) and dropped on rollback.
_INSERT_SQLITE = sa.insert(T)
_INSERT_POSTGRES = (
    sa.insert(T).values(txid=_TXID).returning(sa.func.pg_notify(NOTIFY_CHANNEL, ""))
)


#: The columns the published log copies from the outbox, as stored (no re-encoding).
_COPIED = ("event_id", "event_type", "topic", "key", "value", "headers")


class OutboxPublishError(RuntimeError):
    """The broker did not acknowledge every record of a batch; nothing of it was marked sent."""


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """One pending outbox row, ready to send."""

    position: int
    topic: str
    key: bytes
    value: bytes
    headers: tuple[tuple[str, bytes], ...]


async def add_to_outbox(conn: AsyncConnection, envelopes: Sequence[Envelope]) -> None:
    """Queue `envelopes` for publishing, in the caller's transaction (commit is the caller's)."""
    if not envelopes:
        return
    rows = outbox_rows(envelopes)
    conn.info[PENDING_FLAG] = True
    if _is_postgres(conn):
        (await conn.execute(_INSERT_POSTGRES, rows)).close()
    else:
        await conn.execute(_INSERT_SQLITE, rows)


def outbox_rows(envelopes: Sequence[Envelope]) -> list[dict[str, Any]]:
    """The outbox rows of `envelopes`, without `txid` (for a caller composing its own statement).

    Whoever inserts them must set `txid` to CURRENT_TXID on PostgreSQL, NOTIFY
    NOTIFY_CHANNEL and set `conn.info[PENDING_FLAG]`, as `add_to_outbox` does.
    """
    return [outbox_row(envelope, encode(envelope)) for envelope in envelopes]


def outbox_row(envelope: Envelope, record: KafkaRecord) -> dict[str, Any]:
    """The outbox row of `envelope` from its record, already encoded (see `outbox_rows`)."""
    return {
        "event_id": envelope.id,
        "event_type": envelope.type,
        "topic": record.topic,
        "key": record.key,
        "value": record.value,
        "headers": [[name, value.decode("latin-1")] for name, value in record.headers],
    }


async def pending_count(conn: AsyncConnection) -> int:
    """Rows not yet published (committed and uncommitted alike as this connection sees them)."""
    return int(await conn.scalar(sa.select(sa.func.count()).select_from(T)) or 0)


async def republish(conn: AsyncConnection, since: datetime | None = None) -> int:
    """Queue the retained envelopes published at/after `since` (None: all) again; returns how many.

    Runs in the caller's transaction. Each event id is queued once, in its original publish
    order (so per key in order), with the same envelope: consumers' inboxes drop repeats.
    """
    first = sa.select(sa.func.min(P.c.position)).group_by(P.c.event_id)
    if since is not None:
        first = first.where(P.c.published_at >= _utc(since))
    columns = [P.c[name] for name in _COPIED]
    names = list(_COPIED)
    if _is_postgres(conn):
        columns.insert(0, _TXID.label("txid"))
        names.insert(0, "txid")
    source = sa.select(*columns).where(P.c.position.in_(first)).order_by(P.c.position)
    result = await conn.execute(sa.insert(T).from_select(names, source))
    count = max(result.rowcount or 0, 0)
    if count:
        conn.info[PENDING_FLAG] = True
        if _is_postgres(conn):
            await conn.execute(sa.select(sa.func.pg_notify(NOTIFY_CHANNEL, "")))
    return count


async def prune_published(conn: AsyncConnection, older_than: datetime) -> int:
    """Delete retained envelopes published before `older_than`; returns how many."""
    result = await conn.execute(sa.delete(P).where(P.c.published_at < _utc(older_than)))
    return max(result.rowcount or 0, 0)


async def retained_count(conn: AsyncConnection) -> int:
    """Envelopes in the published log."""
    return int(await conn.scalar(sa.select(sa.func.count()).select_from(P)) or 0)


class OutboxRelay:
    """Publishes the outbox in commit order per key; marks rows sent only after the broker's ack."""

    def __init__(
        self,
        engine: AsyncEngine,
        producer: AIOKafkaProducer,
        *,
        batch_size: int = 500,
        poll_interval: float = 1.0,
        max_backoff: float = 30.0,
        retain: timedelta | None = None,
        prune_interval: float = 300.0,
    ) -> None:
        self._engine = engine
        #: Keep a copy of each published row this long (None: no `published` table).
        self._retain = retain
        self._prune_interval = prune_interval
        self._pruned_at: float | None = None
        self._producer = producer
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._max_backoff = max_backoff
        self._wakeup = asyncio.Event()
        self._listen_conn: AsyncConnection | None = None
        self._listen_driver: Any = None
        #: Records acknowledged by the broker and removed from the outbox since start.
        self.published_total = 0
        #: When the last non-empty batch was acknowledged (UTC).
        self.last_publish_at: datetime | None = None
        #: Batches that failed (send or mark) and will be retried.
        self.failures_total = 0
        self.last_error: str | None = None

    def wake(self) -> None:
        """Nudge the relay after a commit (in-process; PostgreSQL also wakes it by NOTIFY)."""
        self._wakeup.set()

    async def publish_pending(self) -> int:
        """One pass: publish up to `batch_size` committed rows, return how many were published."""
        if self._engine.dialect.name == "postgresql":
            count = await self._publish_postgres()
        else:
            count = await self._publish_sqlite()
        if count:
            self.published_total += count
            self.last_publish_at = datetime.now(UTC)
        return count

    async def run(self) -> None:
        """Publish until cancelled: on NOTIFY, `wake()` or every `poll_interval` seconds."""
        failures = 0
        try:
            while True:
                await self._ensure_listening()
                self._wakeup.clear()
                try:
                    count = await self.publish_pending()
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # broker or database down: retry, never give up
                    failures += 1
                    self.failures_total += 1
                    self.last_error = f"{type(exc).__name__}: {exc}"
                    delay = min(self._max_backoff, 0.2 * 2 ** min(failures, 10))
                    log.warning(
                        "outbox relay pass failed (retry in %.1fs): %s", delay, self.last_error
                    )
                    await asyncio.sleep(delay)
                    continue
                failures = 0
                await self._prune_if_due()
                if count >= self._batch_size:
                    continue  # more is waiting
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wakeup.wait(), self._poll_interval)
        finally:
            await self._stop_listening()

    async def _publish_postgres(self) -> int:
        # One transaction holds the relay lock from read to delete: a second relay (another
        # instance of the service) skips the pass instead of publishing the same rows out of order.
        async with self._engine.begin() as conn:
            locked = await conn.scalar(sa.select(sa.func.pg_try_advisory_xact_lock(RELAY_LOCK_KEY)))
            if not locked:
                return 0
            rows = await self._fetch(conn, sa.or_(T.c.txid.is_(None), T.c.txid < _XMIN))
            if not rows:
                return 0
            await self._send(rows)
            await self._mark_sent(conn, rows)
        return len(rows)

    async def _publish_sqlite(self) -> int:
        # Read and delete in separate short transactions: holding SQLite's single write lock
        # while waiting for the broker would stall every writer of the service.
        async with self._engine.connect() as conn:
            rows = await self._fetch(conn, sa.true())
            await conn.rollback()
        if not rows:
            return 0
        await self._send(rows)
        async with self._engine.begin() as conn:
            await self._mark_sent(conn, rows)
        return len(rows)

    async def _fetch(
        self, conn: AsyncConnection, eligible: sa.ColumnElement[bool]
    ) -> list[OutboxRow]:
        result = await conn.execute(
            sa.select(T.c.position, T.c.topic, T.c.key, T.c.value, T.c.headers)
            .where(eligible)
            .order_by(T.c.position)
            .limit(self._batch_size)
        )
        return [
            OutboxRow(
                position=row.position,
                topic=row.topic,
                key=bytes(row.key),
                value=bytes(row.value),
                headers=tuple((name, value.encode("latin-1")) for name, value in row.headers),
            )
            for row in result
        ]

    async def _send(self, rows: Sequence[OutboxRow]) -> None:
        """Send the whole batch, then wait for every acknowledgement; raise if any failed."""
        futures: list[asyncio.Future[Any]] = []
        error: BaseException | None = None
        try:
            for row in rows:
                futures.append(
                    await self._producer.send(
                        row.topic, value=row.value, key=row.key, headers=list(row.headers)
                    )
                )
        except Exception as exc:  # e.g. buffer full or no metadata: still await what was queued
            error = exc
        results = await asyncio.gather(*futures, return_exceptions=True)
        failed = [result for result in results if isinstance(result, BaseException)]
        if error is not None or failed:
            cause = error or failed[0]
            raise OutboxPublishError(
                f"{len(failed) + (error is not None)} of {len(rows)} outbox records "
                f"not acknowledged: {cause}"
            ) from cause

    async def _mark_sent(self, conn: AsyncConnection, rows: Sequence[OutboxRow]) -> None:
        sent = T.c.position.in_([row.position for row in rows])
        if self._retain is not None:
            # Copied server-side in the delete's transaction: no row leaves unretained.
            copy = sa.select(T.c.position, *(T.c[name] for name in _COPIED),
                             sa.literal(datetime.now(UTC), P.c.published_at.type)).where(sent)
            await conn.execute(
                sa.insert(P).from_select(["position", *_COPIED, "published_at"], copy)
            )
        await conn.execute(sa.delete(T).where(sent))

    async def prune(self) -> int:
        """Drop retained copies older than the retention; returns how many (0 without retention)."""
        if self._retain is None:
            return 0
        async with self._engine.begin() as conn:
            count = await prune_published(conn, datetime.now(UTC) - self._retain)
        if count:
            log.info("pruned %d published envelopes older than %s", count, self._retain)
        return count

    async def _prune_if_due(self) -> None:
        now = asyncio.get_running_loop().time()
        if self._retain is None or (
            self._pruned_at is not None and now - self._pruned_at < self._prune_interval
        ):
            return
        self._pruned_at = now
        try:
            await self.prune()
        except Exception as exc:  # publishing matters more: try again next interval
            log.warning("pruning the published log failed: %s", exc)

    async def _ensure_listening(self) -> None:
        if self._engine.dialect.name != "postgresql":
            return
        if self._listen_driver is not None and not self._listen_driver.is_closed():
            return
        await self._stop_listening()
        conn: AsyncConnection | None = None
        try:
            # A pooled connection kept idle for the relay's lifetime: asyncpg delivers
            # notifications to it between queries.
            conn = await self._engine.connect()
            driver = (await conn.get_raw_connection()).driver_connection
            await driver.add_listener(NOTIFY_CHANNEL, self._on_notify)
        except Exception as exc:  # polling still works; try again next pass
            log.warning("outbox relay cannot LISTEN (polling instead): %s", exc)
            if conn is not None:
                await _discard(conn)
            return
        self._listen_conn, self._listen_driver = conn, driver

    async def _stop_listening(self) -> None:
        conn, driver = self._listen_conn, self._listen_driver
        self._listen_conn = self._listen_driver = None
        if conn is None:
            return
        try:
            if not driver.is_closed():
                await driver.remove_listener(NOTIFY_CHANNEL, self._on_notify)
            await conn.close()
        except Exception as exc:
            log.debug("closing the outbox LISTEN connection failed: %s", exc)
            await _discard(conn)

    def _on_notify(self, *_args: Any) -> None:
        self._wakeup.set()


def _utc(moment: datetime) -> datetime:
    # SQLite stores naive text: compare everything as UTC.
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def _is_postgres(conn: AsyncConnection) -> bool:
    return conn.dialect.name == "postgresql"


async def _discard(conn: AsyncConnection) -> None:
    """Throw a connection away instead of returning it to the pool (its LISTEN state is unknown)."""
    with contextlib.suppress(Exception):
        await conn.invalidate()
    with contextlib.suppress(Exception):
        await conn.close()
