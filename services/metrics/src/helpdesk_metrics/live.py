"""The current facts of the recent tickets, held in process: a recent window's rows unread.

At a million tickets, reading the fact rows of a 30-day window (134k) was half of a live
report's CPU (1.2 of 2.7 s, measured 2026-12-04). Facts change only in transactions that mark
the history (settled.py), and a transaction marking hour h changes only facts whose last
event is at or after h: a ticket event's row carries its time, which the fact's
`last_event_at` is at least, and setting a ticket's calendar marks its creation. So the
process keeps the facts of every ticket that can matter to a window starting at or after its
horizon, with the marks they are consistent with. Before a window is served, the rows touched
since the earliest hour whose mark moved are read again (under live traffic, the current
hour's); a mark of the whole history (a rebuild, a calendar, the cost model) reloads them all.

The marks are read before any row, so a change that commits in between is read again next
time (its mark is new then), never missed. Each metrics process keeps its own copy.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from .candidates import CandidateIndex, candidate, preselect
from .dataset import Window
from .facts import TicketFact
from .fetch import fetch_rows
from .refold import Refolder
from .rows import FACT_COLUMNS, FACT_SELECT, fact_from_values
from .settled import ALL_OF_HISTORY, Marks
from .tables import ticket_facts

_FAR = datetime.max.replace(tzinfo=timezone.utc) - timedelta(days=1)
#: Rows changed since the index was built, as a share of the rows, before it is built again.
_REINDEX_SHARE = 0.05


def per_hour(marks: Marks) -> dict[datetime, int]:
    """Each marked hour's own sum of revisions (Marks holds running sums)."""
    out, before = {}, 0
    for hour, total in zip(marks.hours, marks.totals):
        out[hour] = total - before
        before = total
    return out


class LiveRows:
    """The current facts of the tickets that can matter to a window starting at or after
    `horizon`, as of `marks`."""

    def __init__(self, horizon: datetime, marks: dict[datetime, int],
                 facts: dict[UUID, TicketFact]) -> None:
        self.horizon, self.marks = horizon, marks
        self._facts = facts
        self._index = CandidateIndex(list(facts.values()))
        #: Rows read again since the index was built (they replace its rows).
        self._changed: dict[UUID, TicketFact] = {}
        #: The held tickets' facts after each of their events, as refolds read them whole
        #: (refold.py): a series' buckets as of their ends refold most recent tickets.
        self.steps: dict[UUID, Any] = {}  # refold._Steps

    def __len__(self) -> int:
        return len(self._facts)

    def refolder(self) -> Refolder:
        """A refolder sharing the held tickets' steps (those of others are not kept)."""
        return Refolder(shared=self.steps, shareable=self._facts)

    def covers(self, window: Window) -> bool:
        """True when every row `window` can select is held."""
        return window.start >= self.horizon

    def update(self, facts: Iterable[TicketFact], marks: dict[datetime, int]) -> None:
        """Take rows read again, consistent with `marks`."""
        for fact in facts:
            self._facts[fact.ticket_id] = fact
            self._changed[fact.ticket_id] = fact
            self.steps.pop(fact.ticket_id, None)  # its events changed too
        self.marks = marks
        if len(self._changed) > _REINDEX_SHARE * len(self._facts):
            self._index = CandidateIndex(list(self._facts.values()))
            self._changed = {}

    def of(self, window: Window) -> list[TicketFact]:
        """The rows `preselect(window)` selects (the window must be covered)."""
        changed = self._changed
        out = [f for f in self._index.of(window) if f.ticket_id not in changed]
        out.extend(f for f in changed.values() if candidate(f, window))
        return out


class LiveFacts:
    """The process's `LiveRows`, brought up to date before each use (`days`: how far back
    the windows it serves may start; 0 turns it off)."""

    def __init__(self, days: float) -> None:
        self.days = days
        self._rows: LiveRows | None = None
        self._lock = asyncio.Lock()
        #: One copy of each string value the held facts share (`_SHARED`).
        self._strings: dict[str, str] = {}
        #: Full reads and reads of changed rows, for tests and the benchmark's notes.
        self.loads = self.refreshes = 0

    async def rows(self, conn: AsyncConnection, marks: Marks, now: datetime) -> LiveRows | None:
        """The rows as of `marks` (read before this call) or later; None when off."""
        if self.days <= 0:
            return None
        async with self._lock:
            seen = per_hour(marks)
            held = self._rows
            if held is None or held.horizon < now - 2 * timedelta(days=self.days):
                # First use, or old enough that most of what is held no window asks for.
                return await self._load(conn, seen, now)
            moved = [h for h, revision in seen.items() if held.marks.get(h) != revision]
            if not moved:
                return held
            since = min(moved)
            if since == ALL_OF_HISTORY or since < held.horizon:
                return await self._load(conn, seen, now)
            held.update(await _read(conn, _touched_since(since), self._strings), seen)
            self.refreshes += 1
            return held

    async def _load(self, conn: AsyncConnection, seen: dict[datetime, int],
                    now: datetime) -> LiveRows:
        self._rows = None  # what was held is stale: do not keep both while reading
        horizon = now - timedelta(days=self.days)
        self._strings = {}
        facts = await _read(conn, preselect(Window(horizon, _FAR, _FAR)), self._strings)
        self._rows = LiveRows(horizon, seen, {f.ticket_id: f for f in facts})
        self.loads += 1
        return self._rows


def _touched_since(hour: datetime) -> list[object]:
    """The rows a transaction marking `hour` or later can have changed: last event at or after
    it (and, should a creation time ever be later than the events, created at or after it)."""
    f = ticket_facts.c
    return [f.last_event_at >= hour,
            sa.and_(f.created_at >= hour,
                    sa.or_(f.last_event_at.is_(None), f.last_event_at < hour))]


#: Columns of few distinct values: each row read from the driver brings its own string
#: objects, and held for good, one shared copy per value halves a fact's size.
_SHARED = tuple(i for i, name in enumerate(FACT_COLUMNS) if name in (
    "requester_id", "channel", "type", "category", "priority", "affected_service", "status",
    "team", "agent", "resolved_by", "calendar_id"))


async def _read(conn: AsyncConnection, which: list[object],
                strings: dict[str, str] | None = None) -> list[TicketFact]:
    selects = [sa.select(*FACT_SELECT).where(w) for w in which]
    from_driver, rows = await fetch_rows(conn, selects[0] if len(selects) == 1
                                         else sa.union_all(*selects))
    if strings is None:
        return [fact_from_values(row, from_driver=from_driver) for row in rows]
    out = []
    for row in rows:
        values = list(row)
        for i in _SHARED:
            value = values[i]
            if value is not None:
                values[i] = strings.setdefault(value, value)
        out.append(fact_from_values(values, from_driver=from_driver))
    return out
