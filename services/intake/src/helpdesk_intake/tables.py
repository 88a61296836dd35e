"""Intake's tables: the event store (source of truth), outbox, inbox, and the query read model."""

from __future__ import annotations

import sqlalchemy as sa

from helpdesk_events.tables import events_table, inbox_table, outbox_table

metadata = sa.MetaData()
events = events_table(metadata)
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)

#: Human ticket numbers (HD-<1000 + n>): an autoincrement key, so concurrent creates never wait on a lock.
ticket_numbers = sa.Table(
    "ticket_numbers",
    metadata,
    sa.Column("n", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("ticket_id", sa.Uuid, nullable=False, unique=True),
    sqlite_autoincrement=True,
)

#: Read model for queries: one row per ticket, updated in the same transaction as its events.
#: Each keyset sort has an index ending in `id` (the tie-breaker of the cursor).
tickets = sa.Table(
    "tickets",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("number", sa.String(32), nullable=False, unique=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("priority", sa.String(2), nullable=False),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("type", sa.String(32), nullable=False),
    sa.Column("category", sa.String(200)),
    sa.Column("team", sa.String(100)),
    sa.Column("agent", sa.String(100)),
    sa.Column("tier", sa.Integer),
    sa.Column("requester_id", sa.String(100), nullable=False),
    sa.Column("requester_org", sa.String(200)),
    sa.Column("subject", sa.String(200), nullable=False),
    sa.Column("tags", sa.JSON, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    #: Time of the latest resolution (kept after a reopen): the auto-close job's clock.
    sa.Column("resolved_at", sa.DateTime(timezone=True)),
    #: The whole current state as JSON, so a GET needs no fold.
    sa.Column("document", sa.JSON, nullable=False),
    sa.Index("ix_tickets_created", "created_at", "id"),
    sa.Index("ix_tickets_updated", "updated_at", "id"),
    sa.Index("ix_tickets_priority", "priority", "created_at", "id"),
    sa.Index("ix_tickets_status", "status", "created_at"),
    sa.Index("ix_tickets_requester", "requester_id", "created_at"),
    sa.Index("ix_tickets_team_agent", "team", "agent"),
    sa.Index("ix_tickets_category", "category"),
    #: Auto-close finds resolved tickets by resolution time.
    sa.Index("ix_tickets_auto_close", "status", "resolved_at"),
)

#: One row per (ticket, tag), so the tag filter is an indexed lookup on both databases.
ticket_tags = sa.Table(
    "ticket_tags",
    metadata,
    sa.Column("ticket_id", sa.Uuid, primary_key=True),
    sa.Column("tag", sa.String(50), primary_key=True),
    sa.Index("ix_ticket_tags_tag", "tag", "ticket_id"),
)

#: Idempotency-Key records: the first response to a key is replayed for a retry.
idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column("key", sa.String(200), primary_key=True),
    #: sha256 of method, path, actor and body: the same key with another request is refused.
    sa.Column("request_hash", sa.String(64), nullable=False),
    sa.Column("status_code", sa.Integer, nullable=False),
    sa.Column("headers", sa.JSON, nullable=False),
    sa.Column("body", sa.JSON, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_idempotency_keys_created", "created_at"),
)
