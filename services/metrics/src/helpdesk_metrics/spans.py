"""The time-ranged rows a dataset reads (event counts, SLA outcomes, surveys, agent statuses),
read once for a span of windows and sliced per window.

A series' buckets and a breakdown's values read the same rows: one read each instead of one
per bucket or value.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from .dataset import Window
from .fetch import fetch_rows
from .rows import utc
from .tables import agent_statuses, sla_outcomes, survey_answers, surveys, ticket_events

#: The ticket events read as rows of their own (work logged, resolutions, reopens).
COUNTED_EVENTS = ("helpdesk.ticket.work_logged.v1", "helpdesk.ticket.resolved.v1",
                  "helpdesk.ticket.reopened.v1")


class _ByTime:
    """Rows of [start, stop), sliced by time (sorted on the first slice that is not all of it)."""

    def __init__(self, rows: Sequence[Any], time_of: Callable[[Any], datetime | None],
                 start: datetime | None, stop: datetime) -> None:
        self._all, self._time_of, self._start, self._stop = list(rows), time_of, start, stop
        self._times: list[datetime] | None = None
        self._rows: list[Any] = []

    def between(self, start: datetime | None, stop: datetime) -> list[Any]:
        if start == self._start and stop == self._stop:
            return self._all
        if self._times is None:
            keyed = sorted(((utc(self._time_of(r)), r) for r in self._all),
                           key=lambda pair: pair[0])  # type: ignore[arg-type,return-value]
            self._times, self._rows = [at for at, _ in keyed], [r for _, r in keyed]  # type: ignore[misc]
        lo = 0 if start is None else bisect.bisect_left(self._times, start)  # type: ignore[arg-type]
        return self._rows[lo:bisect.bisect_left(self._times, stop)]  # type: ignore[arg-type]


@dataclass(frozen=True)
class WindowRows:
    """One window's slice: positional event rows (ticket_id, type, at, agent, seconds, kind)
    and table rows of SLA outcomes, surveys sent, answers and agent statuses before its stop."""

    events: list[Any]
    sla: list[Any]
    sent: list[Any]
    answers: list[Any]
    statuses: list[Any]


class SpanRows:
    """The rows of every window inside one span."""

    def __init__(self, events: _ByTime, sla: _ByTime, sent: _ByTime, answers: _ByTime,
                 statuses: _ByTime) -> None:
        self._events, self._sla, self._sent = events, sla, sent
        self._answers, self._statuses = answers, statuses

    @classmethod
    async def read(cls, conn: AsyncConnection, span: Window) -> SpanRows:
        """The rows of [span.start, span.stop) (agent statuses: all before span.stop)."""
        start, stop = span.start, span.stop
        e = ticket_events.c
        _, events = await fetch_rows(conn, sa.select(e.ticket_id, e.type, e.at, e.agent, e.seconds,
                                                     e.kind)
                                     .where(e.type.in_(COUNTED_EVENTS), e.at >= start, e.at < stop))

        async def between(table: sa.Table, column: sa.Column) -> Sequence[Any]:
            return (await conn.execute(sa.select(table).where(column >= start,
                                                              column < stop))).all()

        statuses = (await conn.execute(
            sa.select(agent_statuses).where(agent_statuses.c.at < stop))).all()
        return cls(_ByTime(events, lambda r: r[2], start, stop),
                   _ByTime(await between(sla_outcomes, sla_outcomes.c.at), lambda r: r.at,
                           start, stop),
                   _ByTime(await between(surveys, surveys.c.sent_at), lambda r: r.sent_at,
                           start, stop),
                   _ByTime(await between(survey_answers, survey_answers.c.at), lambda r: r.at,
                           start, stop),
                   _ByTime(statuses, lambda r: r.at, None, stop))

    def of(self, window: Window) -> WindowRows:
        """The rows `window` reads (it must lie inside the span)."""
        start, stop = window.start, window.stop
        return WindowRows(self._events.between(start, stop), self._sla.between(start, stop),
                          self._sent.between(start, stop), self._answers.between(start, stop),
                          self._statuses.between(None, stop))
