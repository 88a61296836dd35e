"""Ticket queries on the read model: filters, sorting and keyset cursor pagination.

A cursor is the sort key of the last ticket of a page (base64url JSON, opaque to clients),
bound to its sort and order; each sort ends in `id`, so keys are unique and no ticket is
skipped or repeated while others are written.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import StrEnum
from typing import Any
from uuid import UUID

import orjson
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from helpdesk_events.tickets import Channel, Priority, Status, TicketType
from helpdesk_runtime.problems import Problem, field_error

from .tables import ticket_tags, tickets

MAX_LIMIT = 200
DEFAULT_LIMIT = 50


class SortKey(StrEnum):
    """What a list is sorted by (ties broken by id)."""

    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"
    PRIORITY = "priority"


class Order(StrEnum):
    """Sort direction; for priority, asc means P1 first."""

    ASC = "asc"
    DESC = "desc"


_COLUMNS: dict[SortKey, tuple[sa.Column[Any], ...]] = {
    SortKey.CREATED_AT: (tickets.c.created_at, tickets.c.id),
    SortKey.UPDATED_AT: (tickets.c.updated_at, tickets.c.id),
    SortKey.PRIORITY: (tickets.c.priority, tickets.c.created_at, tickets.c.id),
}


@dataclass(frozen=True, kw_only=True)
class TicketFilter:
    """Conditions of a ticket list; every one given must hold."""

    status: tuple[Status, ...] = ()
    priority: tuple[Priority, ...] = ()
    channel: tuple[Channel, ...] = ()
    type: tuple[TicketType, ...] = ()
    category: str | None = None
    team: str | None = None
    agent: str | None = None
    tier: int | None = None
    requester: str | None = None
    tag: str | None = None
    text: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    updated_from: datetime | None = None
    updated_to: datetime | None = None

    def conditions(self) -> list[sa.ColumnElement[bool]]:
        """The WHERE clauses."""
        c = tickets.c
        where: list[sa.ColumnElement[bool]] = []
        for column, values in ((c.status, self.status), (c.priority, self.priority),
                               (c.channel, self.channel), (c.type, self.type)):
            if values:
                where.append(column.in_([v.value for v in values]))
        for column, value in ((c.category, self.category), (c.team, self.team),
                              (c.agent, self.agent), (c.tier, self.tier),
                              (c.requester_id, self.requester)):
            if value is not None:
                where.append(column == value)
        if self.tag is not None:
            where.append(sa.exists().where(
                ticket_tags.c.ticket_id == c.id, ticket_tags.c.tag == self.tag.strip().lower()
            ))
        if self.text:
            where.append(c.subject.icontains(self.text, autoescape=True))
        for column, start, end in ((c.created_at, self.created_from, self.created_to),
                                   (c.updated_at, self.updated_from, self.updated_to)):
            if start is not None:
                where.append(column >= _utc(start))
            if end is not None:
                where.append(column < _utc(end))
        return where


@dataclass(frozen=True)
class Page:
    """Ticket documents of one page and the cursor of the next (None on the last page)."""

    documents: list[dict[str, Any]]
    next_cursor: str | None = None


async def list_tickets(
    conn: AsyncConnection,
    where: TicketFilter,
    *,
    sort: SortKey = SortKey.CREATED_AT,
    order: Order = Order.DESC,
    limit: int = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page:
    """One page of tickets matching `where`."""
    columns = _COLUMNS[sort]
    descending = order is Order.DESC
    query = sa.select(tickets.c.document, *columns).where(*where.conditions())
    if cursor is not None:
        query = query.where(_after(columns, decode_cursor(cursor, sort, order), descending))
    ordering = [col.desc() if descending else col.asc() for col in columns]
    rows = (await conn.execute(query.order_by(*ordering).limit(limit + 1))).all()
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = encode_cursor(sort, order, [last[i + 1] for i in range(len(columns))])
    return Page([row.document for row in rows], next_cursor)


def encode_cursor(sort: SortKey, order: Order, values: list[Any]) -> str:
    """The opaque cursor after a row with these sort `values`."""
    document = {"k": sort.value, "o": order.value, "v": [_to_json(v) for v in values]}
    return base64.urlsafe_b64encode(orjson.dumps(document)).rstrip(b"=").decode()


def decode_cursor(cursor: str, sort: SortKey, order: Order) -> list[Any]:
    """The sort values in `cursor`; 422 naming `cursor` if it is not one of ours for this sort."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        document = orjson.loads(raw)
        if document["k"] != sort.value or document["o"] != order.value:
            raise _bad_cursor("the cursor belongs to another sort or order")
        values = document["v"]
        kinds = [_kind(col) for col in _COLUMNS[sort]]
        if not isinstance(values, list) or len(values) != len(kinds):
            raise ValueError("wrong number of values")
        return [_from_json(kind, value) for kind, value in zip(kinds, values, strict=True)]
    except Problem:
        raise
    except (binascii.Error, orjson.JSONDecodeError, KeyError, TypeError, ValueError,
            OverflowError):
        raise _bad_cursor("not a cursor from this API (pass next_cursor as it came)") from None


def _after(columns: tuple[sa.Column[Any], ...], values: list[Any], descending: bool) -> Any:
    """Rows strictly after `values` in (col1, col2, ...) order: an OR of equal prefixes."""
    clauses = []
    for i, column in enumerate(columns):
        equal = [columns[j] == values[j] for j in range(i)]
        beyond = column < values[i] if descending else column > values[i]
        clauses.append(sa.and_(*equal, beyond))
    return sa.or_(*clauses)


def _kind(column: sa.Column[Any]) -> str:
    if column.name == "id":
        return "uuid"
    return "time" if column.name.endswith("_at") else "text"


def _to_json(value: Any) -> Any:
    if isinstance(value, datetime):
        return _utc(value).isoformat()
    return str(value)


def _from_json(kind: str, value: Any) -> Any:
    if not isinstance(value, str):
        raise TypeError("cursor values are strings")
    if kind == "uuid":
        return UUID(value)
    if kind == "time":
        return _utc(datetime.fromisoformat(value))
    return value


def utc_param(name: str, value: datetime | None) -> datetime | None:
    """A time query parameter in UTC (naive taken as UTC); 422 if it has no UTC equivalent."""
    if value is None:
        return None
    try:
        return _utc(value)
    except OverflowError:
        raise Problem(422, "Validation failed", f"{name}: out of range in UTC",
                      errors=[field_error(f"query.{name}", "out of range in UTC")]) from None


def _utc(value: datetime) -> datetime:
    """UTC, naive input taken as UTC (SQLite compares the stored UTC text)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def _bad_cursor(message: str) -> Problem:
    return Problem(422, "Validation failed", f"cursor: {message}",
                   errors=[field_error("query.cursor", message, "invalid_cursor")])
