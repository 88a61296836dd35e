"""Weekly business-hour intervals, their rules, and their "HH:MM" text form.

Rules (checked by `check_interval`):
- `start` and `end` are naive `datetime.time` values in the calendar's local wall-clock time,
  with whole seconds.
- A same-day interval needs `end > start`, except that `end == 00:00` means midnight at the end of
  the day (24:00): `18:00-00:00` is the evening, `00:00-00:00` the whole day.
- An interval that continues past midnight must say so with `overnight=True`; it then ends on the
  next day at `end`, which must be after 00:00 and no later than `start` (`22:00-06:00`, or
  `08:00-08:00` for 24 hours). Without the flag, `end` before `start` is refused as inverted, so a
  typo cannot silently turn into a night shift.
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import time
from typing import Any

from helpdesk_businesstime.errors import CalendarError
from helpdesk_businesstime.zones import DAY, MICROS

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_TIME_TEXT = re.compile(r"^(\d{2}):(\d{2})(?::(\d{2}))?$")
MIDNIGHT = time(0)


@dataclass(frozen=True, slots=True)
class Interval:
    """Business hours on one weekday (0=Monday..6=Sunday) in local wall-clock time."""

    weekday: int
    start: time
    end: time
    overnight: bool = False

    @property
    def start_micros(self) -> int:
        """Microseconds from the weekday's 00:00 to the start."""
        return _micros(self.start)

    @property
    def end_micros(self) -> int:
        """Microseconds from the weekday's 00:00 to the end (past one day when it ends later)."""
        if self.overnight or self.end == MIDNIGHT:
            return _micros(self.end) + DAY
        return _micros(self.end)

    def describe(self) -> str:
        """A short human form, e.g. `Mon 22:00-06:00+1`."""
        end = format_time(self.end, end=not self.overnight) + ("+1" if self.overnight else "")
        return f"{WEEKDAYS[self.weekday]} {format_time(self.start)}-{end}"

    def to_dict(self) -> dict[str, Any]:
        """The JSON-friendly form used by `Calendar.to_dict`."""
        return {
            "weekday": self.weekday,
            "start": format_time(self.start),
            "end": format_time(self.end, end=not self.overnight),
            "overnight": self.overnight,
        }


def _micros(value: time) -> int:
    return ((value.hour * 60 + value.minute) * 60 + value.second) * MICROS


def format_time(value: time, *, end: bool = False) -> str:
    """`HH:MM` (or `HH:MM:SS`); a same-day end at midnight reads `24:00`."""
    if end and value == MIDNIGHT:
        return "24:00"
    text = f"{value.hour:02d}:{value.minute:02d}"
    return f"{text}:{value.second:02d}" if value.second else text


def parse_time(value: object, field: str, *, end: bool = False) -> time:
    """A `time` from itself or `HH:MM[:SS]` text; `24:00` is accepted as an end."""
    if isinstance(value, time):
        return value
    if not isinstance(value, str) or not (match := _TIME_TEXT.match(value)):
        raise CalendarError(field, f"expected a time as HH:MM, got {value!r}")
    hour, minute, second = (int(part or 0) for part in match.groups())
    if end and (hour, minute, second) == (24, 0, 0):
        return MIDNIGHT
    if hour > 23 or minute > 59 or second > 59:
        raise CalendarError(field, f"not a time of day: {value!r}")
    return time(hour, minute, second)


def parse_interval(value: object, field: str) -> Interval:
    """An `Interval` from itself, a mapping or a `(weekday, start, end[, overnight])` sequence."""
    if isinstance(value, Interval):
        return value
    if isinstance(value, Mapping):
        missing = [key for key in ("weekday", "start", "end") if key not in value]
        if missing:
            raise CalendarError(f"{field}.{missing[0]}", "required")
        parts = (value["weekday"], value["start"], value["end"], value.get("overnight", False))
    elif isinstance(value, Sequence) and not isinstance(value, str) and len(value) in (3, 4):
        parts = (*value, False) if len(value) == 3 else tuple(value)
    else:
        raise CalendarError(field, f"expected an interval, got {value!r}")
    weekday, start, end, overnight = parts
    return Interval(
        weekday=weekday,
        start=parse_time(start, f"{field}.start"),
        end=parse_time(end, f"{field}.end", end=True),
        overnight=overnight,
    )


def check_interval(interval: object, field: str) -> None:
    """Refuse an interval that breaks the rules in this module's docstring."""
    if not isinstance(interval, Interval):
        raise CalendarError(field, f"expected an Interval, got {type(interval).__name__}")
    weekday = interval.weekday
    if isinstance(weekday, bool) or not isinstance(weekday, int) or not 0 <= weekday <= 6:
        raise CalendarError(
            f"{field}.weekday", f"expected 0 (Monday) to 6 (Sunday), got {weekday!r}"
        )
    if not isinstance(interval.overnight, bool):
        raise CalendarError(f"{field}.overnight", "expected true or false")
    for name in ("start", "end"):
        value = getattr(interval, name)
        if not isinstance(value, time) or value.tzinfo is not None:
            raise CalendarError(f"{field}.{name}", "expected a naive local time")
        if value.microsecond:
            raise CalendarError(f"{field}.{name}", "expected whole seconds")
    start, end = interval.start, interval.end
    if interval.overnight:
        if end == MIDNIGHT:
            raise CalendarError(
                f"{field}.end", "an interval ending at midnight is not overnight; drop the flag"
            )
        if end > start:
            raise CalendarError(
                f"{field}.end",
                "an overnight interval ends the next day no later than its start "
                f"({format_time(start)})",
            )
    elif end != MIDNIGHT and end <= start:
        raise CalendarError(
            f"{field}.end",
            f"inverted interval: ends at {format_time(end)}, "
            f"not after its start {format_time(start)} "
            "(set overnight for hours that continue past midnight)",
        )
