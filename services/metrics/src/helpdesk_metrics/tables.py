"""Metrics' own tables: the inbox and the per-ticket facts the KPIs are computed from."""

from __future__ import annotations

import sqlalchemy as sa

from helpdesk_events.tables import inbox_table

metadata = sa.MetaData()
inbox = inbox_table(metadata)

#: One row per ticket: what KPIs are computed from (grows with the KPI catalog).
ticket_facts = sa.Table(
    "ticket_facts",
    metadata,
    sa.Column("ticket_id", sa.Uuid, primary_key=True),
    sa.Column("number", sa.String(32), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("type", sa.String(32), nullable=False),
    sa.Column("category", sa.String(200)),
    sa.Column("priority", sa.String(2), nullable=False),
)
