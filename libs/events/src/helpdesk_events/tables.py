"""Tables of the outbox, the inbox and the event store, added to a service's own MetaData.

Each service declares them in its metadata (`outbox_table(md)`) so autogenerate sees them,
and creates them in an alembic migration with `create_outbox(op)` and friends. The table
names are fixed: the outbox, inbox and event store modules query them by these names.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.schema import CreateIndex, CreateTable, DropTable

OUTBOX = "outbox"
PUBLISHED = "published"
INBOX = "inbox"
EVENTS = "events"

# Positions are BIGINT identities on PostgreSQL and AUTOINCREMENT rowids on SQLite
# (never reused, so position order is insertion order on both).
_Position = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def outbox_table(md: sa.MetaData) -> sa.Table:
    """Rows waiting for the relay: one encoded Kafka record each, in `position` order."""
    return sa.Table(
        OUTBOX,
        md,
        sa.Column("position", _Position, sa.Identity(), primary_key=True),
        # pg_current_xact_id() of the inserting transaction (NULL on SQLite): the relay
        # publishes only rows older than every running transaction, so none is skipped.
        sa.Column("txid", sa.BigInteger, nullable=True),
        sa.Column("event_id", sa.Uuid, nullable=False),
        sa.Column("event_type", sa.String(200), nullable=False),
        sa.Column("topic", sa.String(249), nullable=False),
        sa.Column("key", sa.LargeBinary, nullable=False),
        sa.Column("value", sa.LargeBinary, nullable=False),
        # [[name, value as latin-1 text]]: lossless for any header bytes, readable for ASCII.
        sa.Column("headers", sa.JSON, nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sqlite_autoincrement=True,
    )


def published_table(md: sa.MetaData) -> sa.Table:
    """Outbox rows the broker acknowledged, kept for a retention period to re-publish them.

    A memory-only broker forgets records nobody consumed yet; `outbox.republish` copies
    these back into the outbox under the same event ids (consumers' inboxes drop repeats).
    """
    return sa.Table(
        PUBLISHED,
        md,
        # The row's outbox position (positions are never reused): the original publish order.
        sa.Column("position", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("event_id", sa.Uuid, nullable=False),
        sa.Column("event_type", sa.String(200), nullable=False),
        sa.Column("topic", sa.String(249), nullable=False),
        sa.Column("key", sa.LargeBinary, nullable=False),
        sa.Column("value", sa.LargeBinary, nullable=False),
        sa.Column("headers", sa.JSON, nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Index("ix_published_published_at", "published_at"),
    )


def inbox_table(md: sa.MetaData) -> sa.Table:
    """Event ids a consumer has handled, written in the transaction of the effects."""
    return sa.Table(
        INBOX,
        md,
        sa.Column("consumer", sa.String(200), primary_key=True),
        sa.Column("event_id", sa.Uuid, primary_key=True),
        sa.Column(
            "handled_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )


def events_table(md: sa.MetaData) -> sa.Table:
    """The append-only event store: one row per event, unique (stream_id, version)."""
    return sa.Table(
        EVENTS,
        md,
        sa.Column("position", _Position, sa.Identity(), primary_key=True),
        sa.Column("event_id", sa.Uuid, nullable=False),
        sa.Column("stream_id", sa.Uuid, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("type", sa.String(200), nullable=False),
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        # The envelope as the codec writes it (structured-mode CloudEvents JSON).
        sa.Column("envelope", sa.Text, nullable=False),
        sa.UniqueConstraint("stream_id", "version", name="uq_events_stream_version"),
        sa.UniqueConstraint("event_id", name="uq_events_event_id"),
        sa.Index("ix_events_type", "type"),
        sa.Index("ix_events_time", "time"),
        sqlite_autoincrement=True,
    )


def create_outbox(op: Any) -> None:
    """Create the outbox table from an alembic migration (`op` is `alembic.op`)."""
    _create(op, outbox_table(sa.MetaData()))


def drop_outbox(op: Any) -> None:
    """Drop the outbox table from an alembic migration."""
    _drop(op, outbox_table(sa.MetaData()))


def create_published(op: Any) -> None:
    """Create the published-envelopes table from an alembic migration."""
    _create(op, published_table(sa.MetaData()))


def drop_published(op: Any) -> None:
    """Drop the published-envelopes table from an alembic migration."""
    _drop(op, published_table(sa.MetaData()))


def create_inbox(op: Any) -> None:
    """Create the inbox table from an alembic migration."""
    _create(op, inbox_table(sa.MetaData()))


def drop_inbox(op: Any) -> None:
    """Drop the inbox table from an alembic migration."""
    _drop(op, inbox_table(sa.MetaData()))


def create_event_store(op: Any) -> None:
    """Create the event store table from an alembic migration."""
    _create(op, events_table(sa.MetaData()))


def drop_event_store(op: Any) -> None:
    """Drop the event store table from an alembic migration."""
    _drop(op, events_table(sa.MetaData()))


def _create(op: Any, table: sa.Table) -> None:
    # DDL elements work in online and offline (--sql) alembic modes alike.
    op.execute(CreateTable(table))
    for index in sorted(table.indexes, key=lambda ix: ix.name or ""):
        op.execute(CreateIndex(index))


def _drop(op: Any, table: sa.Table) -> None:
    op.execute(DropTable(table))


# The tables the outbox, inbox and event store modules query.
_md = sa.MetaData()
OUTBOX_TABLE = outbox_table(_md)
PUBLISHED_TABLE = published_table(_md)
INBOX_TABLE = inbox_table(_md)
EVENTS_TABLE = events_table(_md)
