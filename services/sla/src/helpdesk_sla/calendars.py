"""Calendar definitions: validation, the CalendarDefined event, storage."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from helpdesk_businesstime import Calendar, CalendarError, Interval
from helpdesk_businesstime.schedule import public_holidays
from helpdesk_events.sla import CalendarDefined, WorkingHours
from helpdesk_runtime.problems import Problem, field_error

from .schemas import CalendarIn

#: Years around now whose public holidays CalendarDefined lists.
_HOLIDAY_YEARS = (-1, 0, 1, 2)


def build_calendar(body: CalendarIn) -> Calendar:
    """A validated Calendar, or a 422 problem naming the offending field."""
    try:
        return Calendar.build(
            time_zone=body.time_zone,
            weekly_hours=[h.model_dump() for h in body.weekly_hours],
            holidays=body.holidays,
            country=body.country,
            subdivision=body.subdivision,
            name=body.name,
        )
    except CalendarError as exc:
        raise Problem(
            422, "Validation failed", str(exc), errors=[field_error(exc.field, exc.message)]
        ) from None


def _hhmm(value: time, *, end: bool) -> str:
    return "24:00" if end and value == time(0) else value.strftime("%H:%M")


def _working_hours(interval: Interval) -> list[WorkingHours]:
    # The event carries same-day spans only: an overnight interval is split at midnight.
    if not interval.overnight:
        return [
            WorkingHours(
                weekday=interval.weekday,
                start=_hhmm(interval.start, end=False),
                end=_hhmm(interval.end, end=True),
            )
        ]
    return [
        WorkingHours(weekday=interval.weekday, start=_hhmm(interval.start, end=False), end="24:00"),
        WorkingHours(
            weekday=(interval.weekday + 1) % 7, start="00:00", end=_hhmm(interval.end, end=True)
        ),
    ]


def calendar_event(calendar_id: str, calendar: Calendar, now: datetime) -> CalendarDefined:
    """The whole calendar as an event, public holidays resolved for the years around `now`."""
    closed = set(calendar.holidays)
    if calendar.country:
        for offset in _HOLIDAY_YEARS:
            closed |= {
                date.fromordinal(o)
                for o in public_holidays(calendar.country, calendar.subdivision, now.year + offset)
            }
    return CalendarDefined(
        calendar_id=calendar_id,
        name=calendar.name or calendar_id,
        time_zone=calendar.time_zone,
        weekly_hours=tuple(h for i in calendar.weekly_hours for h in _working_hours(i)),
        holidays=tuple(sorted(closed)),
        country=calendar.country,
        subdivision=calendar.subdivision,
    )


def calendar_view(
    calendar_id: str, definition: dict[str, Any], *, builtin: bool = False
) -> dict[str, Any]:
    """The REST form of a stored definition."""
    hours = [{**h, "overnight": bool(h.get("overnight"))} for h in definition["weekly_hours"]]
    return {
        "id": calendar_id,
        "name": definition.get("name") or "",
        "time_zone": definition["time_zone"],
        "weekly_hours": hours,
        "holidays": definition.get("holidays") or [],
        "country": definition.get("country"),
        "subdivision": definition.get("subdivision"),
        "builtin": builtin,
    }
