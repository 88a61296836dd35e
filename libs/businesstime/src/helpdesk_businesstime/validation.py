"""Checks a calendar definition and compiles it into a `Schedule` (raising `CalendarError`)."""

from collections.abc import Iterable
from itertools import pairwise
from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holiday_data

from helpdesk_businesstime.errors import CalendarError
from helpdesk_businesstime.intervals import Interval, check_interval
from helpdesk_businesstime.schedule import Schedule
from helpdesk_businesstime.zones import DAY, WEEK


def compile_calendar(
    *,
    time_zone: object,
    weekly_hours: tuple[Interval, ...],
    holidays: Iterable[object],
    country: object,
    subdivision: object,
    name: object,
) -> tuple[ZoneInfo, Schedule]:
    """The zone and compiled schedule of a valid definition; raises `CalendarError` otherwise."""
    if not isinstance(name, str):
        raise CalendarError("name", "expected text")
    zone = check_zone(time_zone)
    for index, interval in enumerate(weekly_hours):
        check_interval(interval, f"weekly_hours[{index}]")
    if not weekly_hours:
        raise CalendarError(
            "weekly_hours",
            "a calendar without business hours never elapses; use Calendar.always_open() for 24x7",
        )
    check_overlaps(weekly_hours)
    explicit = frozenset(check_holiday(value).toordinal() for value in holidays)
    check_country(country, subdivision)
    by_weekday = tuple(
        tuple(
            sorted(
                (interval.start_micros, interval.end_micros)
                for interval in weekly_hours
                if interval.weekday == weekday
            )
        )
        for weekday in range(7)
    )
    return zone, Schedule(by_weekday, explicit, country, subdivision)  # type: ignore[arg-type]


def check_zone(time_zone: object) -> ZoneInfo:
    """The `ZoneInfo` of an IANA zone name."""
    if not isinstance(time_zone, str) or not time_zone:
        raise CalendarError("time_zone", "expected an IANA time zone name such as Europe/Berlin")
    try:
        return ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise CalendarError("time_zone", f"unknown time zone {time_zone!r}") from None


def check_overlaps(weekly_hours: tuple[Interval, ...]) -> None:
    """Refuse intervals that share any moment of the week, overnight spill-over included."""
    pieces: list[tuple[int, int, int]] = []
    for index, interval in enumerate(weekly_hours):
        start = interval.weekday * DAY + interval.start_micros
        end = interval.weekday * DAY + interval.end_micros
        if end > WEEK:
            # Sunday's overnight hours continue into Monday of the next week.
            pieces += [(start, WEEK, index), (0, end - WEEK, index)]
        else:
            pieces.append((start, end, index))
    pieces.sort()
    for (_, previous_end, previous), (start, _, index) in pairwise(pieces):
        if start < previous_end:
            first, second = sorted((previous, index))
            raise CalendarError(
                f"weekly_hours[{second}]",
                f"{weekly_hours[second].describe()} overlaps weekly_hours[{first}] "
                f"({weekly_hours[first].describe()})",
            )


def check_holiday(value: object) -> date:
    """An explicit holiday must be a plain date."""
    if not isinstance(value, date) or isinstance(value, datetime):
        raise CalendarError("holidays", f"expected dates, got {value!r}")
    return value


def check_country(country: object, subdivision: object) -> None:
    """Refuse a country or subdivision the `holidays` package does not know."""
    if country is None:
        if subdivision is not None:
            raise CalendarError("subdivision", "a subdivision needs a country")
        return
    if not isinstance(country, str):
        raise CalendarError("country", "expected an ISO 3166-1 alpha-2 code such as DE")
    if subdivision is not None and not isinstance(subdivision, str):
        raise CalendarError("subdivision", "expected a subdivision code such as BY")
    try:
        holiday_data.country_holidays(country)
    except NotImplementedError:
        raise CalendarError("country", f"no public holidays known for {country!r}") from None
    if subdivision is not None:
        try:
            holiday_data.country_holidays(country, subdiv=subdivision)
        except NotImplementedError:
            raise CalendarError(
                "subdivision", f"{country} has no subdivision {subdivision!r}"
            ) from None
