"""KPI results of past windows, kept until what they were computed from changes.

A window's KPIs as known at its cutoff depend only on what is known of the history up to
the cutoff: the events and rows whose times are at or before it, the calendars and the cost
model. So every transaction that applies a change marks the hour (UTC) of the earliest time
the change carries (`mark`; a calendar or cost model change marks the whole history), and a
kept result carries the sum of the marks up to its cutoff, as read before its rows were.
While that sum is the same, no change reaching back to the window's cutoff has committed
since, and the kept result is what computing it again would give. Under live traffic a
dashboard's daily series then computes only its newest bucket (and a first bucket whose
start moves with the clock); an event older than a bucket's end (a late event, a calendar
redefined) makes the buckets after it compute again.

The sum cannot be fooled by commit order: a mark is a counter bumped in the transaction of
the change, so a change that commits after the sum was read raises it, whichever of two
concurrent transactions took its row first. Each process bumps rows of its own (`WRITER`),
so two metrics instances never wait on each other's row lock.
"""

from __future__ import annotations

import bisect
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any, Hashable
from uuid import uuid4

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from helpdesk_runtime.txmemo import kept_for_transaction

from .rows import utc
from .tables import history_marks

#: The hour that stands for the whole history (every cutoff is after it).
ALL_OF_HISTORY = datetime(1970, 1, 1, tzinfo=timezone.utc)
#: This process's rows in `history_marks`.
WRITER = str(uuid4())


@lru_cache(maxsize=2)
def _bump_statement(dialect: str) -> Any:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(history_marks).values(hour=sa.bindparam("hour"), writer=sa.bindparam("writer"),
                                        revision=1)
    return stmt.on_conflict_do_update(index_elements=["hour", "writer"],
                                      set_={"revision": history_marks.c.revision + 1})


def hour_of(at: datetime) -> datetime:
    """The UTC hour `at` falls in."""
    return at.astimezone(timezone.utc).replace(minute=0, second=0, microsecond=0)


async def mark(conn: AsyncConnection, at: datetime) -> None:
    """Note, in the current transaction, a change to what is known of the history from `at`."""
    hour = hour_of(at)
    marked: set[datetime] = kept_for_transaction(conn, "helpdesk_metrics.marked", set)
    if hour in marked:
        return  # the transaction bumped it already; one bump per commit is enough
    await conn.execute(_bump_statement(conn.dialect.name), {"hour": hour, "writer": WRITER})
    marked.add(hour)


async def mark_all_of_history(conn: AsyncConnection) -> None:
    """Note a change to everything known (a calendar, the cost model, a rebuild)."""
    await mark(conn, ALL_OF_HISTORY)


@dataclass(frozen=True)
class Marks:
    """The marks as read at one moment: per marked hour, the running sum of revisions."""

    hours: tuple[datetime, ...]
    totals: tuple[int, ...]

    def up_to(self, cutoff: datetime) -> int:
        """The sum of the marks of the hours at or before `cutoff` (the hour it falls in too)."""
        i = bisect.bisect_right(self.hours, cutoff)
        return self.totals[i - 1] if i else 0


async def read_marks(conn: AsyncConnection) -> Marks:
    """The current marks (read before the rows a kept result is computed from)."""
    rows = (await conn.execute(
        sa.select(history_marks.c.hour, sa.func.sum(history_marks.c.revision))
        .group_by(history_marks.c.hour).order_by(history_marks.c.hour))).all()
    hours, totals, total = [], [], 0
    for hour, revisions in rows:
        total += int(revisions)
        hours.append(utc(hour))
        totals.append(total)
    return Marks(tuple(hours), tuple(totals))  # type: ignore[arg-type]


class SettledResults:
    """Kept results by key (a window with its filters and hours mode), least recently used
    dropped first. Each entry holds the marks' sum it was computed at and a result per name."""

    def __init__(self, capacity: int = 4096) -> None:
        self._capacity = capacity
        #: How many lookups found results to reuse (what the tests and benchmarks count).
        self.reused = 0
        self._entries: OrderedDict[Hashable, tuple[int, dict[str, Any]]] = OrderedDict()

    def get(self, key: Hashable, stamp: int) -> dict[str, Any]:
        """The results kept for `key` at `stamp` (empty when there are none or they are stale)."""
        entry = self._entries.get(key)
        if entry is None:
            return {}
        if entry[0] != stamp:
            del self._entries[key]
            return {}
        self._entries.move_to_end(key)
        self.reused += 1
        return entry[1]

    def put(self, key: Hashable, stamp: int, results: dict[str, Any]) -> None:
        """Keep `results` for `key`, computed from rows read after marks summing to `stamp`."""
        entry = self._entries.get(key)
        if entry is not None and entry[0] == stamp:
            entry[1].update(results)
            self._entries.move_to_end(key)
            return
        self._entries[key] = (stamp, dict(results))
        self._entries.move_to_end(key)
        while len(self._entries) > self._capacity:
            self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)
