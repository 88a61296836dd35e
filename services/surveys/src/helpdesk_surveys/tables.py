"""The surveys service's own tables."""

from __future__ import annotations

import sqlalchemy as sa

from helpdesk_events.tables import inbox_table, outbox_table

metadata = sa.MetaData()
inbox = inbox_table(metadata)
outbox = outbox_table(metadata)

#: Tickets this service has seen, as far as it needs them.
known_tickets = sa.Table(
    "known_tickets",
    metadata,
    sa.Column("ticket_id", sa.Uuid, primary_key=True),
    sa.Column("number", sa.String(32), nullable=False),
    sa.Column("priority", sa.String(2), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)
