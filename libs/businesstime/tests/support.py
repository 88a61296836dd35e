"""Shared calendars and an independent, naive oracle of the business-hours rule."""

from datetime import date, datetime, time, timedelta

import holidays as holiday_data

from helpdesk_businesstime import Calendar, Interval

WEEKDAYS_9_TO_5 = [(day, "09:00", "17:00") for day in range(5)]


def office(time_zone: str = "Europe/Berlin", **kwargs: object) -> Calendar:
    """Monday to Friday 09:00-17:00."""
    return Calendar.build(time_zone=time_zone, weekly_hours=WEEKDAYS_9_TO_5, **kwargs)


def oracle_is_open(calendar: Calendar, instant: datetime) -> bool:
    """The rule read literally: the local wall reading lies in an interval of a non-holiday date."""
    local = instant.astimezone(calendar.zone)
    wall = datetime.combine(local.date(), local.time())
    for day in (local.date() - timedelta(days=1), local.date()):
        if _oracle_holiday(calendar, day):
            continue
        for interval in calendar.weekly_hours:
            if interval.weekday != day.weekday():
                continue
            start = datetime.combine(day, interval.start)
            end = datetime.combine(day, interval.end)
            if interval.overnight or interval.end == time(0):
                end += timedelta(days=1)
            if start <= wall < end:
                return True
    return False


def _oracle_holiday(calendar: Calendar, day: date) -> bool:
    if day in calendar.holidays:
        return True
    if calendar.country is None:
        return False
    return day in holiday_data.country_holidays(
        calendar.country, subdiv=calendar.subdivision, years=day.year
    )


SAMPLE_CALENDARS = {
    "berlin_office_de_by": office(country="DE", subdivision="BY"),
    "new_york_split_day_us": Calendar.build(
        time_zone="America/New_York",
        weekly_hours=[(d, "09:00", "12:00") for d in range(5)]
        + [(d, "13:00", "17:00") for d in range(5)],
        country="US",
    ),
    "berlin_night_shift": Calendar.build(
        time_zone="Europe/Berlin",
        weekly_hours=[Interval(d, time(22), time(6), overnight=True) for d in range(7)],
        holidays=[date(2026, 3, 28), date(2026, 12, 24)],
    ),
    "new_york_weekend_around_the_clock": Calendar.build(
        time_zone="America/New_York",
        weekly_hours=[(5, "00:00", "24:00"), (6, "00:00", "24:00"), (2, "01:30", "02:30")],
    ),
    "berlin_always_open": Calendar.always_open(time_zone="Europe/Berlin"),
    "sydney_evenings": Calendar.build(
        time_zone="Australia/Sydney",
        weekly_hours=[(d, "18:00", "24:00") for d in (0, 2, 4)] + [(6, "02:00", "03:00")],
        country="AU",
        subdivision="NSW",
    ),
}
