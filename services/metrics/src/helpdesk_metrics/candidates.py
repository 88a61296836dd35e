"""Which ticket_facts rows can matter to a window (see the KPI conventions), and filters.

`preselect` says it in SQL, `candidate` of one fact, and `CandidateIndex` finds many windows'
candidates among rows already read (a series' buckets).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa

from helpdesk_events.tickets import Status

from .dataset import Window
from .facts import DONE_STATUSES, TicketFact
from .kpis import REPEAT_WINDOW
from .tables import ticket_facts

DIMENSIONS = ("team", "agent", "channel", "category", "priority", "tier", "type")
#: Statuses in the backlog (every status of the contract but the done ones).
OPEN_STATUSES = tuple(s.value for s in Status if s.value not in DONE_STATUSES)

@dataclass(frozen=True)
class Filters:
    """Dimension filters (None: any)."""

    team: str | None = None
    agent: str | None = None
    channel: str | None = None
    category: str | None = None
    priority: str | None = None
    tier: str | None = None
    type: str | None = None

    def items(self) -> list[tuple[str, str]]:
        """The filters that are set."""
        return [(d, v) for d in DIMENSIONS if (v := getattr(self, d)) is not None]

    def matches(self, fact: TicketFact | None, skip: tuple[str, ...] = ()) -> bool:
        """True when the ticket passes every filter (an unknown ticket passes only no filter)."""
        wanted = [(d, v) for d, v in self.items() if d not in skip]
        if not wanted:
            return True
        return fact is not None and all(fact.dimension(d) == v for d, v in wanted)


def preselect(window: Window) -> list[Any]:
    """Conditions on ticket_facts that together select the tickets that can matter to a window
    (see the KPI conventions), one row matching at most one of them.

    One indexed range per reason (a UNION ALL of them) instead of one OR over the table: at a
    million tickets the OR is a full scan per query. Each reason excludes the rows of the
    reasons before it, so the branches need no de-duplication and return whole rows.
    """
    f = ticket_facts.c
    lower = window.start - REPEAT_WINDOW
    reasons = (
        (f.created_at >= lower, f.created_at < lower),
        (f.last_resolved_at >= lower,
         sa.or_(f.last_resolved_at.is_(None), f.last_resolved_at < lower)),
        (f.change_at >= window.start, sa.or_(f.change_at.is_(None), f.change_at < window.start)),
        (sa.or_(f.status.is_(None), f.status.in_(OPEN_STATUSES)), None),
    )
    out: list[Any] = []
    earlier: list[Any] = []
    for reason, otherwise in reasons:
        out.append(sa.and_(f.created_at < window.stop, reason, *earlier))
        if otherwise is not None:
            earlier.append(otherwise)
    return out


def candidate(fact: TicketFact, window: Window) -> bool:
    """True when `preselect(window)` selects the row `fact` was read from."""
    created_at = fact.created_at
    if created_at is None or created_at >= window.stop:
        return False
    lower = window.start - REPEAT_WINDOW
    return (created_at >= lower
            or (fact.last_resolved_at is not None and fact.last_resolved_at >= lower)
            or (fact.change_at is not None and fact.change_at >= window.start)
            or fact.status is None or fact.status in OPEN_STATUSES)


def filter_conditions(filters: Filters, skip: tuple[str, ...] = ()) -> list[Any]:
    """`filters` as conditions on ticket_facts (what `Filters.matches` checks on a fact)."""
    f = ticket_facts.c
    out: list[Any] = []
    for name, value in filters.items():
        if name in skip:
            continue
        if name == "tier":
            out.append(f.tier == int(value) if value.isdigit() else sa.false())
        else:
            out.append(f[name] == value)
    return out


class CandidateIndex:
    """Rows sorted so that each window's candidates are found without testing every row."""

    def __init__(self, rows: list[TicketFact]) -> None:
        reached = [(reach(r), r) for r in rows if r.created_at is not None]
        # Open rows are candidates of every window they were created before: a prefix.
        self._open = sorted((r for until, r in reached if until is OPEN_REACH),
                            key=lambda r: r.created_at)  # type: ignore[arg-type,return-value]
        self._open_created = [r.created_at for r in self._open]
        done = [(until, r) for until, r in reached if until is not OPEN_REACH]
        # Others need both `created_at < stop` and `start <= reach`: walk the shorter range.
        by_created = sorted(done, key=lambda pair: pair[1].created_at)  # type: ignore[arg-type,return-value]
        self._by_created = [r for _, r in by_created]
        self._created = [r.created_at for r in self._by_created]
        self._created_reach = [until for until, _ in by_created]
        by_reach = sorted(done, key=lambda pair: pair[0])
        self._by_reach = [r for _, r in by_reach]
        self._reach = [until for until, _ in by_reach]

    def of(self, window: Window) -> list[TicketFact]:
        """The rows `preselect(window)` selects."""
        start, stop = window.start, window.stop
        out = self._open[:bisect.bisect_left(self._open_created, stop)]
        made = bisect.bisect_left(self._created, stop)
        reached = bisect.bisect_left(self._reach, start)
        if made <= len(self._reach) - reached:
            out.extend(r for r, until in zip(self._by_created[:made], self._created_reach)
                       if until >= start)
        else:
            out.extend(r for r in self._by_reach[reached:] if r.created_at < stop)  # type: ignore[operator]
        return out


OPEN_REACH = datetime.max.replace(tzinfo=timezone.utc)


def reach(fact: TicketFact) -> datetime:
    """The latest window start whose `preselect` can select this row (with `created_at`
    before the window's stop): `candidate` is `created_at < stop and start <= reach`."""
    if fact.status is None or fact.status in OPEN_STATUSES:
        return OPEN_REACH
    until = [at + REPEAT_WINDOW for at in (fact.created_at, fact.last_resolved_at)
             if at is not None]
    if fact.change_at is not None:
        until.append(fact.change_at)
    return max(until, default=datetime.min.replace(tzinfo=timezone.utc))
