"""Metrics' own tables: the inbox, per-ticket facts, event-level records and configuration.

- `ticket_facts`: one row per ticket, the live fold of its events (facts.evolve); upserted
  partially, so an SLA event may set `calendar_id` before the ticket's TicketCreated arrives.
- `ticket_events`: every ticket event (payload JSON plus typed columns for event-level
  counts); replaying it up to an instant gives the facts as of that instant.
- `sla_outcomes`, `surveys`, `survey_answers`, `agent_statuses`, `calendars`: the other
  topics, one row per fact, so arrival order across topics does not matter.
- `targets`, `config`: what ops staff set through the API (KPI targets, cost model, baseline).
- `history_marks`: per hour of history, how often a transaction changed what is known of it
  (settled.py: a past window's KPIs are kept while the hours up to its cutoff are unchanged).
"""

from __future__ import annotations

import sqlalchemy as sa

from helpdesk_events.tables import inbox_table

metadata = sa.MetaData()
inbox = inbox_table(metadata)

_Time = sa.DateTime(timezone=True)

ticket_facts = sa.Table(
    "ticket_facts",
    metadata,
    sa.Column("ticket_id", sa.Uuid, primary_key=True),
    sa.Column("created_at", _Time, index=True),
    sa.Column("number", sa.String(32)),
    sa.Column("requester_id", sa.String(100), index=True),
    sa.Column("channel", sa.String(16)),
    sa.Column("type", sa.String(32)),
    sa.Column("category", sa.String(100)),
    sa.Column("priority", sa.String(2)),
    sa.Column("affected_service", sa.String(100)),
    sa.Column("tags", sa.JSON, nullable=False, default=list),
    sa.Column("status", sa.String(16), index=True),
    sa.Column("team", sa.String(100), index=True),
    sa.Column("agent", sa.String(100), index=True),
    sa.Column("tier", sa.SmallInteger),
    sa.Column("first_assigned_at", _Time),
    sa.Column("first_reply_at", _Time, index=True),
    sa.Column("first_resolved_at", _Time),
    sa.Column("last_resolved_at", _Time, index=True),
    sa.Column("resolved_tier", sa.SmallInteger),
    sa.Column("resolved_by", sa.String(100)),
    sa.Column("closed_at", _Time),
    sa.Column("resolutions", sa.Integer, nullable=False, default=0),
    sa.Column("reopens", sa.Integer, nullable=False, default=0),
    sa.Column("contacts", sa.Integer, nullable=False, default=0),
    sa.Column("transfers", sa.Integer, nullable=False, default=0),
    sa.Column("escalations", sa.Integer, nullable=False, default=0),
    sa.Column("talk_seconds", sa.Integer, nullable=False, default=0),
    sa.Column("research_seconds", sa.Integer, nullable=False, default=0),
    sa.Column("after_work_seconds", sa.Integer, nullable=False, default=0),
    sa.Column("waiting_spans", sa.JSON, nullable=False, default=list),
    sa.Column("change_at", _Time, index=True),
    sa.Column("change_success", sa.Boolean),
    sa.Column("calendar_id", sa.String(100)),
    sa.Column("last_event_at", _Time, index=True),
)

ticket_events = sa.Table(
    "ticket_events",
    metadata,
    sa.Column("event_id", sa.Uuid, primary_key=True),
    sa.Column("ticket_id", sa.Uuid, nullable=False),
    sa.Column("sequence", sa.BigInteger),
    sa.Column("at", _Time, nullable=False),
    sa.Column("type", sa.String(100), nullable=False),
    sa.Column("agent", sa.String(100)),
    sa.Column("seconds", sa.Integer),
    sa.Column("kind", sa.String(32)),
    sa.Column("data", sa.JSON, nullable=False),
    sa.Index("ix_ticket_events_ticket", "ticket_id", "sequence", "at"),
    sa.Index("ix_ticket_events_type_at", "type", "at"),
)

sla_outcomes = sa.Table(
    "sla_outcomes",
    metadata,
    sa.Column("event_id", sa.Uuid, primary_key=True),
    sa.Column("ticket_id", sa.Uuid, nullable=False, index=True),
    sa.Column("target", sa.String(32), nullable=False),
    sa.Column("outcome", sa.String(16), nullable=False),
    sa.Column("at", _Time, nullable=False, index=True),
)

surveys = sa.Table(
    "surveys",
    metadata,
    sa.Column("survey_id", sa.Uuid, primary_key=True),
    sa.Column("ticket_id", sa.Uuid, index=True),
    sa.Column("sent_at", _Time, index=True),
    sa.Column("agent", sa.String(100)),
    sa.Column("team", sa.String(100)),
    sa.Column("answered_at", _Time),
)

survey_answers = sa.Table(
    "survey_answers",
    metadata,
    sa.Column("survey_id", sa.Uuid, primary_key=True),
    sa.Column("kind", sa.String(32), primary_key=True),
    sa.Column("score", sa.Integer, nullable=False),
    sa.Column("scale_min", sa.Integer, nullable=False),
    sa.Column("scale_max", sa.Integer, nullable=False),
    sa.Column("at", _Time, nullable=False, index=True),
    sa.Column("ticket_id", sa.Uuid),
    sa.Column("agent", sa.String(100)),
    sa.Column("team", sa.String(100)),
)

agent_statuses = sa.Table(
    "agent_statuses",
    metadata,
    sa.Column("event_id", sa.Uuid, primary_key=True),
    sa.Column("agent_id", sa.String(100), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("at", _Time, nullable=False, index=True),
    sa.Column("teams", sa.JSON, nullable=False, default=list),
    sa.Column("hourly_cost", sa.Float),
)

calendars = sa.Table(
    "calendars",
    metadata,
    sa.Column("calendar_id", sa.String(100), primary_key=True),
    sa.Column("definition", sa.JSON, nullable=False),
    sa.Column("defined_at", _Time, nullable=False),
)

targets = sa.Table(
    "targets",
    metadata,
    sa.Column("kpi", sa.String(64), primary_key=True),
    sa.Column("value", sa.Float, nullable=False),
    sa.Column("direction", sa.String(8), nullable=False),
)

config = sa.Table(
    "config",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.JSON, nullable=False),
)

history_marks = sa.Table(
    "history_marks",
    metadata,
    # The hour (UTC) an applied change reaches back to; 1970-01-01 stands for all of history.
    sa.Column("hour", _Time, primary_key=True),
    # One row per writing process and hour, so two instances never wait on each other's row.
    sa.Column("writer", sa.String(36), primary_key=True),
    sa.Column("revision", sa.BigInteger, nullable=False),
)
