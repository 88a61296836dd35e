"""Facts as of past cutoffs, refolded from the stored events, each ticket's events kept once.

A window whose cutoff is in the past (a series' bucket, the trend's previous window, `as_of`)
refolds the tickets touched since its cutoff. A series asks for many cutoffs, latest first,
and most tickets touched since one bucket's end were touched since the next bucket's too: the
events before a later cutoff hold those before every earlier one, so each earlier cutoff
folds the ones before it from memory, and a ticket none of whose events dropped out keeps
its fact.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from .facts import TicketFact, fold
from .fetch import fetch_rows
from .rows import utc
from .tables import ticket_events, ticket_facts

_Event = tuple[datetime, str, Mapping[str, Any]]
_END = datetime.max.replace(tzinfo=timezone.utc)


class Refolder:
    """Refolds tickets as of cutoffs that never increase from one call to the next."""

    def __init__(self) -> None:
        self._cutoff: datetime | None = None
        #: A ticket's events before the cutoff it was first read at, in stream order.
        self._events: dict[UUID, list[_Event]] = {}
        self._calendar: dict[UUID, str | None] = {}
        #: The events' times when they are in time order (None: some event is out of order).
        self._times: dict[UUID, list[datetime] | None] = {}
        #: The last fold of a ticket: how many events it took (the same count: the same fact),
        #: the fact, and the cutoffs it holds for, (floor, ceiling].
        self._folded: dict[UUID, tuple[int, TicketFact, datetime, datetime]] = {}

    async def read(self, conn: AsyncConnection, touched: Any, cutoff: datetime) -> set[UUID]:
        """Read the events before `cutoff` of the tickets the select `touched` (of ticket ids)
        names; the ids of those with any."""
        if self._cutoff is not None and cutoff > self._cutoff:
            raise ValueError("cutoffs must not increase: the events kept stop at the previous one")
        self._cutoff = cutoff
        e = ticket_events.c
        _, rows = await fetch_rows(conn,
            sa.select(e.ticket_id, e.at, e.type, e.data, ticket_facts.c.calendar_id)
            .join(ticket_facts, ticket_facts.c.ticket_id == e.ticket_id)
            .where(e.ticket_id.in_(touched), e.at < cutoff)
            .order_by(e.ticket_id, e.sequence, e.at))
        named: set[UUID] = set()
        fresh: dict[UUID, list[_Event]] = {}
        for tid, at, type_, data, calendar_id in rows:
            named.add(tid)
            if tid not in self._events:  # read at a later cutoff already: those events hold these
                fresh.setdefault(tid, []).append((utc(at), type_, data))  # type: ignore[arg-type]
                self._calendar[tid] = calendar_id
        self._events.update(fresh)
        for tid, events in fresh.items():
            times = [at for at, _, _ in events]
            self._times[tid] = times if all(a <= b for a, b in zip(times, times[1:])) else None
        return named

    def fact(self, tid: UUID, cutoff: datetime) -> TicketFact | None:
        """The ticket as of `cutoff` (at most the last read's), None without events before it."""
        known = self._folded.get(tid)
        # The last fold holds for every cutoff in (its last event's time, the next event's].
        if known is not None and known[2] < cutoff <= known[3]:
            return known[1]
        events = self._events.get(tid)
        if events is None:
            return None
        times = self._times[tid]
        # Stream order is nearly always time order: then the events before a cutoff are a prefix.
        count = (bisect.bisect_left(times, cutoff) if times is not None
                 else sum(1 for at, _, _ in events if at < cutoff))
        if not count:
            return None
        # The events before two cutoffs nest, so an equal count is the same events.
        if known is not None and known[0] == count:
            return known[1]
        before = (events[:count] if times is not None
                  else [event for event in events if event[0] < cutoff])
        fact = fold(tid, [(type_, data) for _, type_, data in before], self._calendar[tid])
        # Out of time order, no interval is known: the count decides every time.
        floor, ceiling = ((times[count - 1], times[count] if count < len(times) else _END)
                          if times is not None else (_END, _END))
        self._folded[tid] = (count, fact, floor, ceiling)
        return fact

    async def facts(self, conn: AsyncConnection, touched: Any,
                    cutoff: datetime) -> dict[UUID, TicketFact]:
        """The facts as of `cutoff` of the tickets `touched` names (that have events before it)."""
        out = {}
        for tid in await self.read(conn, touched, cutoff):
            fact = self.fact(tid, cutoff)
            if fact is not None:
                out[tid] = fact
        return out
