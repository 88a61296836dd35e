"""Facts as of past cutoffs, refolded from the stored events, each ticket's events kept once.

A window whose cutoff is in the past (a series' bucket, the trend's previous window, `as_of`)
refolds the tickets touched since its cutoff. A series asks for many cutoffs, latest first,
and most tickets touched since one bucket's end were touched since the next bucket's too: the
events before a later cutoff hold those before every earlier one. A ticket whose events are
in time order is folded once, keeping the fact after each event (the events before a cutoff
are a prefix); its payloads are not kept, which at a million tickets is most of a series'
memory. The rare ticket with an event older than the one before it keeps its events and is
folded per cutoff.
"""

from __future__ import annotations

import bisect
from collections.abc import Container, Mapping
from datetime import datetime, timezone
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection

from .facts import TicketFact, fold, fold_steps
from .fetch import fetch_rows
from .rows import utc
from .tables import ticket_events

_Event = tuple[datetime, str, Mapping[str, Any]]
_START = datetime.min.replace(tzinfo=timezone.utc)
_END = datetime.max.replace(tzinfo=timezone.utc)
#: Tickets per read of their events (one array parameter on PostgreSQL; SQLite takes 999).
READ_CHUNK = {"postgresql": 10_000}


class _Steps:
    """A ticket in time order: the fact after each of its events."""

    __slots__ = ("times", "facts", "floor", "ceiling", "last")

    def __init__(self, times: list[datetime], facts: list[TicketFact]) -> None:
        self.times, self.facts = times, facts
        self.floor = self.ceiling = times[0]
        self.last: TicketFact | None = None

    def at(self, cutoff: datetime) -> TicketFact | None:
        """The fact as of `cutoff`: after the events before it (None: there are none)."""
        if self.floor < cutoff <= self.ceiling:
            return self.last
        times = self.times
        count = bisect.bisect_left(times, cutoff)
        self.floor = times[count - 1] if count else _START
        self.ceiling = times[count] if count < len(times) else _END
        self.last = self.facts[count - 1] if count else None
        return self.last


class Refolder:
    """Refolds tickets as of cutoffs that never increase from one call to the next."""

    def __init__(self, shared: dict[UUID, _Steps] | None = None,
                 shareable: Container[UUID] = ()) -> None:
        #: Tickets in time order with every event of theirs, kept across readers (live.py):
        #: taken from there instead of read. A refolder sharing them reads every event of a
        #: ticket (those after the cutoff too), so what it reads can be shared.
        self._shared, self._shareable = shared, shareable
        self._cutoff: datetime | None = None
        #: Every ticket whose events were read (at the first cutoff that named it).
        self._read: set[UUID] = set()
        #: In time order: the events' times, the fact after each event, and the last answer
        #: with the cutoffs it holds for, (floor, ceiling] (a series asks bucket after bucket).
        self._steps: dict[UUID, _Steps] = {}
        #: Out of time order: the events and the calendar.
        self._events: dict[UUID, list[_Event]] = {}
        self._calendar: dict[UUID, str | None] = {}

    async def read(self, conn: AsyncConnection, touched: Any, cutoff: datetime) -> set[UUID]:
        """Read the events before `cutoff` (every event, when sharing) of the tickets the
        select `touched` (of ticket ids and their calendar ids) names; the ids of those with
        any (before this cutoff or a later one's read)."""
        # The calendar from the row that named the ticket: joining the events to their facts
        # for it cost PostgreSQL an index lookup per event (~0.4 s for 24k events).
        named: dict[UUID, str | None] = {
            tid: calendar for tid, calendar in (await conn.execute(touched)).all()}
        return await self.read_named(conn, named, cutoff)

    async def read_named(self, conn: AsyncConnection, named: dict[UUID, str | None],
                         cutoff: datetime) -> set[UUID]:
        """`read` of the tickets `named` (ticket id -> calendar id)."""
        if self._cutoff is not None and cutoff > self._cutoff:
            raise ValueError("cutoffs must not increase: the events kept stop at the previous one")
        self._cutoff = cutoff
        # Read at a later cutoff already: those events hold these.
        ids = named.keys() - self._read
        self._read.update(ids)
        shared = self._shared
        if shared is not None:
            known = {tid for tid in ids if tid in shared}
            self._steps.update((tid, shared[tid]) for tid in known)
            ids -= known
        ids = sorted(ids)
        # In chunks: the decoded payloads of a series' events are several times the facts
        # folded from them, and only one chunk's are held at a time.
        size = READ_CHUNK.get(conn.dialect.name, 500)
        for i in range(0, len(ids), size):
            await self._read_chunk(conn, ids[i:i + size], named, cutoff)
        if shared is not None:
            shared.update((tid, self._steps[tid]) for tid in ids
                          if tid in self._steps and tid in self._shareable)
        return {tid for tid in named if tid in self._steps or tid in self._events}

    async def _read_chunk(self, conn: AsyncConnection, ids: list[UUID],
                          calendars: dict[UUID, str | None], cutoff: datetime) -> None:
        e = ticket_events.c
        if conn.dialect.name == "postgresql":
            wanted = e.ticket_id == sa.any_(sa.bindparam("ids", ids, type_=ARRAY(sa.Uuid())))
        else:
            wanted = e.ticket_id.in_(ids)
        _, rows = await fetch_rows(conn,
            sa.select(e.ticket_id, e.at, e.type, e.data)
            .where(wanted, *([] if self._shared is not None else [e.at < cutoff]))
            .order_by(e.ticket_id, e.sequence, e.at))
        fresh: dict[UUID, list[_Event]] = {}
        for tid, at, type_, data in rows:
            fresh.setdefault(tid, []).append((utc(at), type_, data))  # type: ignore[arg-type]
        for tid, events in fresh.items():
            times = [at for at, _, _ in events]
            if all(a <= b for a, b in zip(times, times[1:])):
                steps = fold_steps(tid, [(type_, data) for _, type_, data in events],
                                   calendars[tid])
                self._steps[tid] = _Steps(times, steps)
            else:
                self._events[tid], self._calendar[tid] = events, calendars[tid]

    def fact(self, tid: UUID, cutoff: datetime) -> TicketFact | None:
        """The ticket as of `cutoff` (at most the last read's), None without events before it."""
        steps = self._steps.get(tid)
        if steps is not None:
            return steps.at(cutoff)
        events = self._events.get(tid)
        if events is None:
            return None
        # Out of time order (rare): fold the events before the cutoff each time.
        before = [(type_, data) for at, type_, data in events if at < cutoff]
        return fold(tid, before, self._calendar[tid]) if before else None

    async def facts(self, conn: AsyncConnection, touched: Any,
                    cutoff: datetime) -> dict[UUID, TicketFact]:
        """The facts as of `cutoff` of the tickets `touched` names (that have events before it)."""
        return self._facts_of(await self.read(conn, touched, cutoff), cutoff)

    async def facts_named(self, conn: AsyncConnection, named: dict[UUID, str | None],
                          cutoff: datetime) -> dict[UUID, TicketFact]:
        """`facts` of the tickets `named` (ticket id -> calendar id)."""
        return self._facts_of(await self.read_named(conn, named, cutoff), cutoff)

    def _facts_of(self, ids: set[UUID], cutoff: datetime) -> dict[UUID, TicketFact]:
        out = {}
        for tid in ids:
            fact = self.fact(tid, cutoff)
            if fact is not None:
                out[tid] = fact
        return out
