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


#: What the kept results may hold, in cells (`_cells`), 35-60 MB. Measured at 1M tickets with
#: 40 agents: one report window's 35 KPIs are 526 cells (45 KiB), a series bucket of the
#: dashboard's nine KPIs 14 cells (2 KiB).
CELLS = 400_000


def _cells(results: dict[str, Any]) -> int:
    """A rough size of kept results: one cell per value, breakdown entry and listed field (a
    per-agent KPI lists a row per agent, so a big desk's results weigh more)."""
    n = 0
    for result in results.values():
        n += 1 + len(result.breakdown or ())
        for value in (result.details or {}).values():
            if isinstance(value, list):
                n += sum(len(item) if isinstance(item, dict) else 1 for item in value)
    return n


class SettledResults:
    """Kept results by key (a window with its filters and hours mode), least recently used
    dropped first once they hold more than `cells`. Each entry holds the marks' sum it was
    computed at and a result per KPI name."""

    def __init__(self, cells: int = CELLS) -> None:
        self._budget = cells
        self._held = 0
        #: How many lookups found results to reuse (what the tests and benchmarks count).
        self.reused = 0
        self._entries: OrderedDict[Hashable, tuple[int, dict[str, Any], int]] = OrderedDict()

    def get(self, key: Hashable, stamp: int) -> dict[str, Any]:
        """The results kept for `key` at `stamp` (empty when there are none or they are stale)."""
        entry = self._entries.get(key)
        if entry is None:
            return {}
        if entry[0] != stamp:
            self._drop(key)
            return {}
        self._entries.move_to_end(key)
        self.reused += 1
        return entry[1]

    def put(self, key: Hashable, stamp: int, results: dict[str, Any]) -> None:
        """Keep `results` for `key`, computed from rows read after marks summing to `stamp`."""
        entry = self._entries.get(key)
        merged = {**entry[1], **results} if entry is not None and entry[0] == stamp else dict(results)
        if entry is not None:
            self._drop(key)
        cells = _cells(merged)
        self._entries[key] = (stamp, merged, cells)
        self._held += cells
        while self._held > self._budget and self._entries:
            self._drop(next(iter(self._entries)))

    def _drop(self, key: Hashable) -> None:
        self._held -= self._entries.pop(key)[2]

    @property
    def cells(self) -> int:
        """What the kept results hold now, in cells."""
        return self._held

    def __len__(self) -> int:
        return len(self._entries)
