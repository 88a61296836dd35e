"""The sla service's own tables."""

from __future__ import annotations

import sqlalchemy as sa
from helpdesk_events.tables import inbox_table, outbox_table, published_table

metadata = sa.MetaData()
inbox = inbox_table(metadata)
outbox = outbox_table(metadata)
published = published_table(metadata)

_Position = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_Instant = sa.DateTime(timezone=True)

#: Business-hours calendars as their `Calendar.to_dict` form.
calendars = sa.Table(
    "calendars",
    metadata,
    sa.Column("id", sa.String(100), primary_key=True),
    sa.Column("definition", sa.JSON, nullable=False),
    sa.Column("updated_at", _Instant, nullable=False),
)

#: SLA policies, evaluated in `position` order (the definition is `Policy.model_dump`).
policies = sa.Table(
    "policies",
    metadata,
    sa.Column("id", sa.String(100), primary_key=True),
    sa.Column("position", sa.Integer, nullable=False, index=True),
    sa.Column("definition", sa.JSON, nullable=False),
    sa.Column("updated_at", _Instant, nullable=False),
)

#: Every ticket event sla has seen: policy re-evaluation and simulation replay it.
ticket_history = sa.Table(
    "ticket_history",
    metadata,
    sa.Column("position", _Position, sa.Identity(), primary_key=True),
    sa.Column("event_id", sa.Uuid, nullable=False, unique=True),
    sa.Column("ticket_id", sa.Uuid, nullable=False, index=True),
    sa.Column("event_type", sa.String(200), nullable=False),
    sa.Column("occurred_at", _Instant, nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
    sqlite_autoincrement=True,
)

#: One row per ticket: the pure domain state (`TicketSla` as JSON) plus columns to query.
ticket_sla = sa.Table(
    "ticket_sla",
    metadata,
    sa.Column("ticket_id", sa.Uuid, primary_key=True),
    sa.Column("created_at", _Instant, nullable=False, index=True),
    sa.Column("policy_id", sa.String(100), nullable=False),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("updated_at", _Instant, nullable=False),
)

#: Durable timers: the warning and breach instants of running clocks (the scheduler's queue).
sla_timers = sa.Table(
    "sla_timers",
    metadata,
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("ticket_id", sa.Uuid, nullable=False, index=True),
    sa.Column("target", sa.String(32), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("generation", sa.Integer, nullable=False),
    sa.Column("due_at", _Instant, nullable=False, index=True),
)

#: Idempotency keys of timers that fired (clock + kind + generation): each fires once.
sla_firings = sa.Table(
    "sla_firings",
    metadata,
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("fired_at", _Instant, nullable=False),
)

#: Breaches for `GET /v1/breaches`.
breaches = sa.Table(
    "breaches",
    metadata,
    sa.Column("ticket_id", sa.Uuid, primary_key=True),
    sa.Column("target", sa.String(32), primary_key=True),
    sa.Column("policy_id", sa.String(100), nullable=False),
    sa.Column("due_at", _Instant, nullable=False),
    sa.Column("breached_at", _Instant, nullable=False, index=True),
    sa.Column("late_by_seconds", sa.Integer, nullable=False),
    sa.Column("priority", sa.String(2)),
    sa.Column("team", sa.String(100)),
    sa.Column("escalate", sa.Boolean, nullable=False),
)
