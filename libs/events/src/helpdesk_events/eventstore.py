"""Append-only event store with optimistic concurrency: unique (stream_id, version)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from helpdesk_events.codec import KafkaRecord, decode, encode
from helpdesk_events.envelope import Envelope
from helpdesk_events.outbox import outbox_row
from helpdesk_events.tables import EVENTS_TABLE as T

# Built once: SQLAlchemy then finds their compiled form in its cache without rebuilding them.
_VERSION = sa.select(sa.func.max(T.c.version)).where(T.c.stream_id == sa.bindparam("stream_id"))
#: A version meeting an existing one is a lost race, not an error: the unique
#: (stream_id, version) constraint is the check, without aborting the transaction.
_INSERT_NEW = {
    dialect.__name__.rsplit(".", 1)[-1]: dialect.insert(T)
    .on_conflict_do_nothing(index_elements=[T.c.stream_id, T.c.version])
    .returning(T.c.event_id)
    for dialect in (postgresql, sqlite)
}
_DELETE = sa.delete(T).where(T.c.event_id.in_(sa.bindparam("event_ids", expanding=True)))


class ConcurrencyConflict(Exception):
    """The stream moved on since the caller read it: reload and decide again."""

    def __init__(self, stream_id: uuid.UUID, expected: int, actual: int) -> None:
        super().__init__(f"stream {stream_id} is at version {actual}, expected {expected}")
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual


async def stream_version(conn: AsyncConnection, stream_id: uuid.UUID) -> int:
    """The stream's last version, 0 for a stream without events."""
    value = await conn.scalar(_VERSION, {"stream_id": stream_id})
    return int(value or 0)


async def append(
    conn: AsyncConnection,
    stream_id: uuid.UUID,
    expected_version: int,
    envelopes: Sequence[Envelope],
) -> None:
    """Append `envelopes` as versions expected_version+1.. in the caller's transaction.

    Raises ConcurrencyConflict when the stream is not at `expected_version`, including when a
    concurrent writer wins the race. An envelope's `sequence`, when set, must equal its version.
    """
    rows = event_rows(stream_id, expected_version, envelopes)
    if expected_version != 0 or not rows:
        # A new stream needs no read: its version 1 conflicts exactly when the stream
        # exists (streams start at 1 without gaps). Others must not leave a gap.
        actual = await stream_version(conn, stream_id)
        if actual != expected_version:
            raise ConcurrencyConflict(stream_id, expected_version, actual)
    if rows:
        await _insert_or_conflict(conn, stream_id, expected_version, rows)


async def _insert_or_conflict(
    conn: AsyncConnection,
    stream_id: uuid.UUID,
    expected_version: int,
    rows: list[dict[str, object]],
) -> None:
    """Insert the rows in one statement, or raise ConcurrencyConflict if a version is taken.

    A version taken by a concurrent writer is skipped (ON CONFLICT DO NOTHING: no savepoint
    needed, the caller's transaction stays usable); rows of the batch that did go in are
    deleted again before the conflict is raised.
    """
    result = await conn.execute(_INSERT_NEW[conn.dialect.name], rows)
    written = [row.event_id for row in result]
    if len(written) == len(rows):
        return
    if written:
        await conn.execute(_DELETE, {"event_ids": written})
    raise ConcurrencyConflict(stream_id, expected_version, await stream_version(conn, stream_id))


def event_rows(
    stream_id: uuid.UUID, expected_version: int, envelopes: Sequence[Envelope]
) -> list[dict[str, object]]:
    """The `events` rows `append` writes (for a caller composing its own statement)."""
    return [event_row(stream_id, expected_version + offset, envelope, encode(envelope))
            for offset, envelope in enumerate(envelopes, start=1)]


def event_and_outbox_rows(
    stream_id: uuid.UUID, expected_version: int, envelopes: Sequence[Envelope]
) -> list[tuple[dict[str, object], dict[str, object]]]:
    """Each envelope's `events` row and outbox row, from one encoding (a caller writing both
    in its own statement; `event_rows` and `outbox_rows` would encode it once each)."""
    pairs = []
    for offset, envelope in enumerate(envelopes, start=1):
        record = encode(envelope)
        pairs.append((event_row(stream_id, expected_version + offset, envelope, record),
                      outbox_row(envelope, record)))
    return pairs


def event_row(
    stream_id: uuid.UUID, version: int, envelope: Envelope, record: KafkaRecord
) -> dict[str, object]:
    """The `events` row of `envelope` at `version`, from its record already encoded."""
    if envelope.sequence is not None and envelope.sequence != version:
        raise ValueError(
            f"envelope {envelope.id} has sequence {envelope.sequence}, "
            f"but would be version {version}"
        )
    return {
        "event_id": envelope.id,
        "stream_id": stream_id,
        "version": version,
        "type": envelope.type,
        "time": envelope.time,
        "envelope": record.value.decode(),
    }


# Built once: building the select per call cost more CPU than running it.
_READ_STREAM = (
    sa.select(T.c.envelope)
    .where(T.c.stream_id == sa.bindparam("stream_id", type_=T.c.stream_id.type))
    .order_by(T.c.version)
)


async def read_stream(conn: AsyncConnection, stream_id: uuid.UUID) -> list[Envelope]:
    """Every event of the stream, in version order."""
    result = await conn.execute(_READ_STREAM, {"stream_id": stream_id})
    return [decode(row.envelope) for row in result]


async def read_all(
    conn: AsyncConnection, after_position: int = 0, limit: int = 1000
) -> list[tuple[int, Envelope]]:
    """Events in global (position) order after `after_position`, as (position, envelope).

    For replays (re-publishing to a broker that lost its data, rebuilds). On PostgreSQL a
    transaction still running may commit a lower position later; such events reach the
    broker through the outbox, so a replay running beside live writers loses nothing either.
    """
    query = (
        sa.select(T.c.position, T.c.envelope)
        .where(T.c.position > after_position)
        .order_by(T.c.position)
        .limit(limit)
    )
    result = await conn.execute(query)
    return [(row.position, decode(row.envelope)) for row in result]
