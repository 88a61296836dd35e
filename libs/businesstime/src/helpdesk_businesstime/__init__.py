"""Business-hours arithmetic shared by the SLA and metrics services (pure: no clock, no I/O).

A `Calendar` is weekly hours in an IANA zone minus holidays; the functions of `arithmetic`
add business seconds to an instant and measure business seconds between instants.

Semantics, in one place:
- An instant is business time when its local wall-clock reading falls in one of that local
  date's intervals (or the overnight part of the previous date's), and the date owning the
  interval is not a holiday.
- Intervals: `end > start` on the same day; `end == 00:00` means 24:00 of that day (so
  `00:00-00:00` is the whole day); hours past midnight need `overnight=True` (`22:00-06:00`),
  otherwise `end <= start` is refused as inverted. Intervals may not overlap, spill-over
  included; touching is fine. At least one interval is required (24x7: `Calendar.always_open()`).
- Holidays belong to the local date an interval starts on: a holiday removes the whole of an
  interval starting that day, overnight part included, and keeps the overnight part of the
  previous day's interval that spills into it.
- Clock changes: hours in the skipped spring-forward hour do not exist; the repeated fall-back
  hour counts twice when it is business time. Durations are real elapsed seconds.
- `add_business_seconds` returns the earliest instant at which the amount has elapsed; zero
  returns the start unchanged. Amounts are rounded to microseconds; results are UTC.
"""

from helpdesk_businesstime.arithmetic import (
    add_business_seconds,
    business_seconds_between,
    is_open,
    next_opening,
    open_intervals,
)
from helpdesk_businesstime.calendars import Calendar
from helpdesk_businesstime.errors import CalendarError
from helpdesk_businesstime.intervals import Interval

__all__ = [
    "Calendar",
    "CalendarError",
    "Interval",
    "add_business_seconds",
    "business_seconds_between",
    "is_open",
    "next_opening",
    "open_intervals",
]
