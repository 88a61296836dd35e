"""Conversions between table rows and the pure facts (UTC everywhere: SQLite returns naive)."""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime, timezone
from typing import Any, Mapping

from .facts import TicketFact, parse_time

_TIME_FIELDS = frozenset({
    "created_at", "first_assigned_at", "first_reply_at", "first_resolved_at",
    "last_resolved_at", "closed_at", "change_at",
})
FACT_COLUMNS = tuple(f.name for f in fields(TicketFact))
#: Columns a ticket event may change (calendar_id belongs to the sla topic).
TICKET_COLUMNS = tuple(c for c in FACT_COLUMNS if c not in ("ticket_id", "calendar_id"))


def utc(value: datetime | None) -> datetime | None:
    """An aware UTC datetime (naive values, as SQLite returns them, are UTC)."""
    if value is None:
        return None
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def fact_from_row(row: Mapping[str, Any]) -> TicketFact:
    """A TicketFact from a `ticket_facts` row."""
    values: dict[str, Any] = {}
    for name in FACT_COLUMNS:
        value = row[name]
        if name in _TIME_FIELDS:
            value = utc(value)
        elif name == "tags":
            value = tuple(value or ())
        elif name == "waiting_spans":
            value = tuple((parse_time(a), None if b is None else parse_time(b)) for a, b in value or ())
        elif name in ("resolutions", "reopens", "contacts", "transfers", "escalations",
                      "talk_seconds", "research_seconds", "after_work_seconds"):
            value = value or 0
        values[name] = value
    return TicketFact(**values)


def fact_values(fact: TicketFact) -> dict[str, Any]:
    """The `ticket_facts` column values a ticket event may change."""
    values: dict[str, Any] = {}
    for name in TICKET_COLUMNS:
        value = getattr(fact, name)
        if name == "tags":
            value = list(value)
        elif name == "waiting_spans":
            value = [[a.isoformat(), None if b is None else b.isoformat()] for a, b in value]
        values[name] = value
    return values
