from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from helpdesk_businesstime import (
    Calendar,
    Interval,
    add_business_seconds,
    business_seconds_between,
    is_open,
)

from .support import office

UTC = timezone.utc
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
HOUR = 3600


def day_seconds(calendar: Calendar, day: date, zone: ZoneInfo) -> float:
    start = datetime.combine(day, time(0), tzinfo=zone)
    return business_seconds_between(
        calendar, start, datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    )


def test_german_unity_day_closes_a_saturday_desk():
    calendar = Calendar.build(
        time_zone="Europe/Berlin",
        weekly_hours=[(d, "09:00", "17:00") for d in range(6)],
        country="DE",
    )
    assert date(2026, 10, 3).weekday() == 5
    assert day_seconds(calendar, date(2026, 10, 3), BERLIN) == 0
    assert day_seconds(calendar, date(2026, 10, 10), BERLIN) == 8 * HOUR


def test_labour_day_pushes_a_due_time_over_the_long_weekend():
    calendar = office(country="DE")
    # Thu 2026-04-30 16:00: 1 h on Thursday, Fri 1 May is a holiday, 1 h from Mon 09:00.
    due = add_business_seconds(calendar, datetime(2026, 4, 30, 16, tzinfo=BERLIN), 2 * HOUR)
    assert due == datetime(2026, 5, 4, 10, tzinfo=BERLIN)


def test_subdivision_holidays_apply_only_there():
    epiphany_noon = datetime(2026, 1, 6, 12, tzinfo=BERLIN)
    assert not is_open(office(country="DE", subdivision="BY"), epiphany_noon)
    assert is_open(office(country="DE", subdivision="BE"), epiphany_noon)
    assert is_open(office(country="DE"), epiphany_noon)


def test_us_independence_day_on_a_saturday_is_observed_on_friday():
    calendar = office(time_zone="America/New_York", country="US")
    assert date(2026, 7, 4).weekday() == 5
    assert not is_open(calendar, datetime(2026, 7, 3, 12, tzinfo=NEW_YORK))
    assert is_open(office(time_zone="America/New_York"), datetime(2026, 7, 3, 12, tzinfo=NEW_YORK))
    # Thu 16:00 EDT: 1 h on Thursday, then Monday 09:00-10:00 EDT (14:00 UTC).
    due = add_business_seconds(calendar, datetime(2026, 7, 2, 16, tzinfo=NEW_YORK), 2 * HOUR)
    assert due == datetime(2026, 7, 6, 14, tzinfo=UTC)


def test_explicit_holidays_combine_with_public_ones():
    calendar = office(country="DE", holidays=[date(2026, 12, 24)])
    # Wed 23 Dec 16:00: 1 h, then Thu 24 (explicit), Fri 25 (public), weekend, Mon 28 09:00-10:00.
    due = add_business_seconds(calendar, datetime(2026, 12, 23, 16, tzinfo=BERLIN), 2 * HOUR)
    assert due == datetime(2026, 12, 28, 10, tzinfo=BERLIN)


def test_new_year_holiday_is_found_across_the_year_boundary():
    calendar = office(country="DE")
    due = add_business_seconds(calendar, datetime(2026, 12, 31, 16, tzinfo=BERLIN), 2 * HOUR)
    assert due == datetime(2027, 1, 4, 10, tzinfo=BERLIN)


def test_public_holidays_are_subtracted_over_a_year():
    # 2026 has 261 weekdays; 7 German national holidays fall on weekdays
    # (1 Jan, 3 Apr, 6 Apr, 1 May, 14 May, 25 May, 25 Dec).
    calendar = office(country="DE")
    year = business_seconds_between(
        calendar, datetime(2026, 1, 1, tzinfo=BERLIN), datetime(2027, 1, 1, tzinfo=BERLIN)
    )
    assert year == (261 - 7) * 8 * HOUR


def test_holiday_removes_the_overnight_shift_starting_on_it_and_keeps_the_one_ending_on_it():
    calendar = Calendar.build(
        time_zone="Europe/Berlin",
        weekly_hours=[Interval(d, time(22), time(6), overnight=True) for d in range(5)],
        holidays=[date(2026, 6, 9)],
    )
    assert is_open(
        calendar, datetime(2026, 6, 9, 3, tzinfo=BERLIN)
    )  # Monday's shift, ending on the holiday
    assert not is_open(calendar, datetime(2026, 6, 9, 23, tzinfo=BERLIN))  # the holiday's own shift
    assert not is_open(
        calendar, datetime(2026, 6, 10, 3, tzinfo=BERLIN)
    )  # ... including its morning part
    assert (
        business_seconds_between(
            calendar,
            datetime(2026, 6, 8, 12, tzinfo=BERLIN),
            datetime(2026, 6, 10, 12, tzinfo=BERLIN),
        )
        == 8 * HOUR
    )
