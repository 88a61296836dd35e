"""The routing service's own tables: registry, rules, its view of tickets, its decisions."""

from __future__ import annotations

import sqlalchemy as sa

from helpdesk_events.tables import inbox_table, outbox_table, published_table

metadata = sa.MetaData()
inbox = inbox_table(metadata)
outbox = outbox_table(metadata)
published = published_table(metadata)

teams = sa.Table(
    "teams",
    metadata,
    sa.Column("id", sa.String(100), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("tier", sa.Integer, nullable=False),
    sa.Column("categories", sa.JSON, nullable=False),
    sa.Column("skills", sa.JSON, nullable=False),
    sa.Column("languages", sa.JSON, nullable=False),
    sa.Column("strategy", sa.String(20), nullable=False),
    #: Round robin: the last agent this team served.
    sa.Column("cursor", sa.String(100), nullable=True),
)

agents = sa.Table(
    "agents",
    metadata,
    sa.Column("id", sa.String(100), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("teams", sa.JSON, nullable=False),
    sa.Column("tier", sa.Integer, nullable=False),
    sa.Column("capacity", sa.Integer, nullable=False),
    sa.Column("skills", sa.JSON, nullable=False),
    sa.Column("languages", sa.JSON, nullable=False),
    sa.Column("hourly_cost", sa.Float, nullable=True),
    sa.Column("schedule", sa.JSON, nullable=False),
    sa.Column("status", sa.String(10), nullable=False),
)

rules = sa.Table(
    "rules",
    metadata,
    sa.Column("id", sa.String(100), primary_key=True),
    sa.Column("position", sa.Integer, nullable=False, index=True),
    sa.Column("name", sa.String(200), nullable=True),
    sa.Column("conditions", sa.JSON, nullable=False),
    sa.Column("team", sa.String(100), nullable=False, index=True),
    sa.Column("tier", sa.Integer, nullable=True),
    sa.Column("strategy", sa.String(20), nullable=True),
    sa.Column("priority", sa.String(2), nullable=True),
    sa.Column("skills", sa.JSON, nullable=False),
    sa.Column("enabled", sa.Boolean, nullable=False),
)

#: Routing's view of each ticket (from ticket events and its own decisions).
tickets = sa.Table(
    "tickets",
    metadata,
    sa.Column("ticket_id", sa.Uuid, primary_key=True),
    sa.Column("facts", sa.JSON, nullable=False),
    sa.Column("state", sa.String(10), nullable=False),
    sa.Column("tier", sa.Integer, nullable=True),
    sa.Column("team", sa.String(100), nullable=True),
    sa.Column("agent", sa.String(100), nullable=True),
    sa.Column("strategy", sa.String(20), nullable=True),
    sa.Column("rule", sa.String(100), nullable=True),
    sa.Column("skills", sa.JSON, nullable=False),
    sa.Column("queued_at", sa.DateTime(timezone=True), nullable=True),
    sa.Index("ix_tickets_queue", "team", "state", "queued_at"),
    sa.Index("ix_tickets_agent", "agent", "state"),
)

#: Every decision routing published, per ticket, in order.
decisions = sa.Table(
    "decisions",
    metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("event_id", sa.Uuid, nullable=False, unique=True),
    sa.Column("ticket_id", sa.Uuid, nullable=False, index=True),
    sa.Column("type", sa.String(100), nullable=False),
    sa.Column("data", sa.JSON, nullable=False),
    sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
)

#: Escalation requests (SLA breaches) that arrived before the ticket's creation.
early_escalations = sa.Table(
    "early_escalations",
    metadata,
    sa.Column("event_id", sa.Uuid, primary_key=True),
    sa.Column("ticket_id", sa.Uuid, nullable=False, index=True),
    sa.Column("reason", sa.String(2000), nullable=False),
)
