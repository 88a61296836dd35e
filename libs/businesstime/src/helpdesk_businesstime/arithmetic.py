"""Business-time arithmetic on aware instants; every result is an aware UTC datetime.

An instant is business time when its local wall-clock reading in the calendar's zone falls in
an interval of that local date (or in the overnight part of the previous date's interval), and
that date is not a holiday. Everything follows from this rule:
- spring forward: wall times in the skipped hour never occur, so hours there do not exist;
- fall back: the repeated wall hour occurs twice, so inside business hours it counts twice;
  durations are always real elapsed seconds;
- 24x7 calendars count plain elapsed time (fast path).
The work is done in wall time between the zone's offset changes, where wall time is UTC shifted
by a constant; whole weeks are skipped arithmetically, so cost grows with the number of
holidays and offset changes in a span, not with its length.
"""

import math
from collections.abc import Iterator
from datetime import datetime
from numbers import Real

from helpdesk_businesstime.calendars import Calendar
from helpdesk_businesstime.zones import MICROS, from_micros, next_boundary, offset_at, to_micros


def add_business_seconds(calendar: Calendar, start: datetime, seconds: float) -> datetime:
    """The earliest instant at which `seconds` of business time have elapsed since `start`.

    Counting begins at the next opening when `start` is outside hours. Zero seconds return
    `start` itself (in UTC) even outside hours; use `next_opening` for the opening. An amount
    that exactly fills an interval ends at that interval's close, not at the next opening.
    Seconds are rounded to whole microseconds.
    """
    amount = _micros_of(seconds)
    moment = to_micros(start)
    schedule, zone = calendar._schedule, calendar.zone
    if schedule.always_open or amount == 0:
        return from_micros(moment + amount)
    while True:
        offset = offset_at(zone, moment)
        boundary = next_boundary(zone, moment)
        wall = moment + offset
        reached = schedule.wall_add(wall, amount) - offset
        if reached <= boundary:
            return from_micros(reached)
        amount -= schedule.wall_sum(wall, boundary + offset)
        moment = boundary


def business_seconds_between(calendar: Calendar, a: datetime, b: datetime) -> float:
    """Business seconds in [a, b); 0 when b <= a."""
    low, high = to_micros(a), to_micros(b)
    if high <= low:
        return 0.0
    schedule, zone = calendar._schedule, calendar.zone
    if schedule.always_open:
        return (high - low) / MICROS
    total = 0
    moment = low
    while moment < high:
        offset = offset_at(zone, moment)
        boundary = min(next_boundary(zone, moment), high)
        total += schedule.wall_sum(moment + offset, boundary + offset)
        moment = boundary
    return total / MICROS


def is_open(calendar: Calendar, t: datetime) -> bool:
    """Whether `t` is business time."""
    moment = to_micros(t)
    schedule = calendar._schedule
    if schedule.always_open:
        return True
    return schedule.is_open_at(moment + offset_at(calendar.zone, moment))


def next_opening(calendar: Calendar, t: datetime) -> datetime:
    """The earliest business instant at or after `t` (`t` itself, in UTC, when open)."""
    moment = to_micros(t)
    schedule, zone = calendar._schedule, calendar.zone
    if schedule.always_open:
        return from_micros(moment)
    while True:
        offset = offset_at(zone, moment)
        boundary = next_boundary(zone, moment)
        for start, _ in schedule.wall_spans(moment + offset, boundary + offset):
            return from_micros(start - offset)
        moment = boundary


def open_intervals(
    calendar: Calendar, a: datetime, b: datetime
) -> Iterator[tuple[datetime, datetime]]:
    """Maximal business intervals within [a, b) as UTC (start, end) pairs, in order."""
    low, high = to_micros(a), to_micros(b)
    return _open_intervals(calendar, low, high)


def _open_intervals(calendar: Calendar, low: int, high: int) -> Iterator[tuple[datetime, datetime]]:
    if high <= low:
        return
    schedule, zone = calendar._schedule, calendar.zone
    if schedule.always_open:
        yield from_micros(low), from_micros(high)
        return
    pending: tuple[int, int] | None = None
    moment = low
    while moment < high:
        offset = offset_at(zone, moment)
        boundary = min(next_boundary(zone, moment), high)
        for start, end in schedule.wall_spans(moment + offset, boundary + offset):
            start, end = start - offset, end - offset
            if pending is not None and pending[1] == start:
                # Touching spans (midnight, back-to-back intervals, an offset change) are one.
                pending = (pending[0], end)
                continue
            if pending is not None:
                yield from_micros(pending[0]), from_micros(pending[1])
            pending = (start, end)
        moment = boundary
    if pending is not None:
        yield from_micros(pending[0]), from_micros(pending[1])


def _micros_of(seconds: float) -> int:
    if isinstance(seconds, bool) or not isinstance(seconds, Real):
        raise TypeError(f"expected a number of seconds, got {type(seconds).__name__}")
    if isinstance(seconds, int):
        micros = seconds * MICROS
    else:
        if not math.isfinite(seconds):
            raise ValueError(f"expected a finite number of seconds, got {seconds!r}")
        micros = round(seconds * MICROS)
    if micros < 0:
        raise ValueError(f"expected a non-negative number of seconds, got {seconds!r}")
    return micros
