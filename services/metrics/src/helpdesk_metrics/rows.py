"""Conversions between table rows and the pure facts (UTC everywhere: SQLite returns naive)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from .facts import TicketFact, parse_time
from .tables import ticket_facts

_TIME_FIELDS = frozenset({
    "created_at", "first_assigned_at", "first_reply_at", "first_resolved_at",
    "last_resolved_at", "closed_at", "change_at", "last_event_at",
})
FACT_COLUMNS = TicketFact.__struct_fields__
#: The `ticket_facts` columns of FACT_COLUMNS, in that order (what a read of facts selects).
FACT_SELECT = tuple(ticket_facts.c[name] for name in FACT_COLUMNS)
#: Columns a ticket event may change (calendar_id belongs to the sla topic).
TICKET_COLUMNS = tuple(c for c in FACT_COLUMNS if c not in ("ticket_id", "calendar_id"))


def utc(value: datetime | None) -> datetime | None:
    """An aware UTC datetime (naive values, as SQLite returns them, are UTC)."""
    if value is None or value.tzinfo is timezone.utc:
        return value
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def _spans(value: Any) -> tuple[tuple[datetime, datetime | None], ...]:
    if not value:
        return ()
    return tuple((parse_time(a), None if b is None else parse_time(b)) for a, b in value)


def _count(value: int | None) -> int:
    return value or 0


#: How each column becomes a fact field (a whole table is read per query: keep it cheap).
_CONVERTERS: tuple[tuple[str, Callable[[Any], Any] | None], ...] = tuple(
    (name, utc if name in _TIME_FIELDS
     else (lambda v: tuple(v) if v else ()) if name == "tags"
     else _spans if name == "waiting_spans"
     else _count if name in ("resolutions", "reopens", "contacts", "transfers", "escalations",
                             "talk_seconds", "research_seconds", "after_work_seconds")
     else None)
    for name in FACT_COLUMNS
)


def fact_from_row(row: Mapping[str, Any]) -> TicketFact:
    """A TicketFact from a `ticket_facts` row."""
    return TicketFact(**{name: row[name] if convert is None else convert(row[name])
                         for name, convert in _CONVERTERS})


#: The conversions a row read straight from asyncpg needs: its times are aware UTC already
#: and its counts never NULL (the columns are NOT NULL), only the JSON lists become tuples.
_DRIVER_CONVERTERS: tuple[tuple[int, Callable[[Any], Any]], ...] = tuple(
    (i, convert) for i, (name, convert) in enumerate(_CONVERTERS)
    if convert is not None and name in ("tags", "waiting_spans"))
_ALL_CONVERTERS: tuple[tuple[int, Callable[[Any], Any]], ...] = tuple(
    (i, convert) for i, (_, convert) in enumerate(_CONVERTERS) if convert is not None)


def fact_from_values(values: Sequence[Any], *, from_driver: bool = False) -> TicketFact:
    """A TicketFact from the `FACT_COLUMNS` of a row, in that order.

    `from_driver`: the values come from asyncpg without SQLAlchemy's processing (PostgreSQL).
    """
    out = list(values)
    for i, convert in _DRIVER_CONVERTERS if from_driver else _ALL_CONVERTERS:
        out[i] = convert(out[i])
    return TicketFact(*out)


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
