"""The surveys service's own tables (times are stored in UTC; see `store.utc`)."""

from __future__ import annotations

import sqlalchemy as sa

from helpdesk_events.tables import inbox_table, outbox_table, published_table

metadata = sa.MetaData()
inbox = inbox_table(metadata)
outbox = outbox_table(metadata)
published = published_table(metadata)

Time = sa.DateTime(timezone=True)

#: Survey policies; the whole validated policy lives in `document`.
policies = sa.Table(
    "survey_policies",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("name", sa.String(100), nullable=False, unique=True),
    sa.Column("document", sa.JSON, nullable=False),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
)

#: What surveys knows of each ticket, kept from ticket events.
tickets = sa.Table(
    "tickets",
    metadata,
    sa.Column("ticket_id", sa.Uuid, primary_key=True),
    sa.Column("number", sa.String(32)),
    sa.Column("requester_id", sa.String(200), nullable=False),
    sa.Column("requester_email", sa.String(320)),
    sa.Column("channel", sa.String(32)),
    sa.Column("category", sa.String(200)),
    sa.Column("type", sa.String(32)),
    sa.Column("team", sa.String(200)),
    sa.Column("agent", sa.String(200)),
)

#: One row per survey: ticket surveys and agent-satisfaction surveys alike.
surveys = sa.Table(
    "surveys",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("ticket_id", sa.Uuid, index=True),
    sa.Column("policy_id", sa.Uuid),
    sa.Column("round_id", sa.Uuid, index=True),
    sa.Column("questions", sa.JSON, nullable=False),
    #: The kinds asked, as ",csat,nps,", so lists filter by kind portably.
    sa.Column("kinds", sa.String(100), nullable=False),
    sa.Column("requester_id", sa.String(200), nullable=False, index=True),
    sa.Column("requester_email", sa.String(320)),
    sa.Column("agent_id", sa.String(200)),
    sa.Column("team", sa.String(200)),
    sa.Column("channel", sa.String(32)),
    sa.Column("category", sa.String(200)),
    sa.Column("status", sa.String(16), nullable=False),
    #: When the triggering ticket event happened (throttling counts from here).
    sa.Column("triggered_at", Time, nullable=False),
    sa.Column("due_at", Time, nullable=False),
    sa.Column("expires_at", Time, nullable=False),
    sa.Column("remind_at", Time),
    sa.Column("sent_at", Time),
    sa.Column("reminded_at", Time),
    sa.Column("closed_at", Time),
    sa.Column("answers", sa.JSON),
    sa.Column("comment", sa.Text),
    sa.Index("ix_surveys_status_due", "status", "due_at"),
)

#: Survey events waiting to be posted to the configured webhook.
webhook_deliveries = sa.Table(
    "webhook_deliveries",
    metadata,
    sa.Column("event_id", sa.Uuid, primary_key=True),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("next_attempt_at", Time, nullable=False, index=True),
    sa.Column("delivered_at", Time),
    sa.Column("failed", sa.Boolean, nullable=False, default=False),
    sa.Column("last_error", sa.Text),
)
