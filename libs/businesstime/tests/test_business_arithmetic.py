from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from helpdesk_businesstime import (
    Calendar,
    Interval,
    add_business_seconds,
    business_seconds_between,
    is_open,
    next_opening,
    open_intervals,
)

from .support import office

UTC = timezone.utc
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
HOUR = 3600


def split_day() -> Calendar:
    return Calendar.build(
        time_zone="America/New_York",
        weekly_hours=[(d, "09:00", "12:00") for d in range(5)]
        + [(d, "13:00", "17:00") for d in range(5)],
    )


def night_shift() -> Calendar:
    return Calendar.build(
        time_zone="Europe/Berlin",
        weekly_hours=[Interval(d, time(22), time(6), overnight=True) for d in range(5)],
    )


def test_ticket_created_friday_evening_starts_counting_at_monday_opening():
    calendar = office()
    friday_evening = datetime(2026, 5, 8, 18, 0, tzinfo=BERLIN)
    assert not is_open(calendar, friday_evening)
    assert next_opening(calendar, friday_evening) == datetime(2026, 5, 11, 9, 0, tzinfo=BERLIN)
    assert add_business_seconds(calendar, friday_evening, HOUR) == datetime(
        2026, 5, 11, 10, tzinfo=BERLIN
    )
    assert add_business_seconds(calendar, friday_evening, 8 * HOUR) == datetime(
        2026, 5, 11, 17, tzinfo=BERLIN
    )


def test_results_are_utc():
    due = add_business_seconds(office(), datetime(2026, 5, 8, 18, 0, tzinfo=BERLIN), HOUR)
    assert due.tzinfo is UTC
    assert due == datetime(2026, 5, 11, 8, 0, tzinfo=UTC)


def test_target_that_exactly_fills_the_day_is_due_at_closing_not_next_morning():
    monday_opening = datetime(2026, 5, 11, 9, 0, tzinfo=BERLIN)
    assert add_business_seconds(office(), monday_opening, 8 * HOUR) == datetime(
        2026, 5, 11, 17, tzinfo=BERLIN
    )
    assert add_business_seconds(office(), monday_opening, 8 * HOUR + 1) == datetime(
        2026, 5, 12, 9, 0, 1, tzinfo=BERLIN
    )


def test_zero_seconds_returns_the_start_even_outside_hours():
    saturday = datetime(2026, 5, 9, 12, 0, tzinfo=BERLIN)
    assert add_business_seconds(office(), saturday, 0) == saturday


def test_several_intervals_a_day_skip_the_lunch_break():
    calendar = split_day()
    monday_ten = datetime(2026, 6, 15, 10, 0, tzinfo=NEW_YORK)
    # 10:00-12:00 is 2 h, 13:00-15:00 the other 2 h.
    assert add_business_seconds(calendar, monday_ten, 4 * HOUR) == datetime(
        2026, 6, 15, 15, tzinfo=NEW_YORK
    )
    assert (
        business_seconds_between(
            calendar,
            datetime(2026, 6, 15, 8, tzinfo=NEW_YORK),
            datetime(2026, 6, 15, 18, tzinfo=NEW_YORK),
        )
        == (3 + 4) * HOUR
    )
    lunch = datetime(2026, 6, 15, 12, 30, tzinfo=NEW_YORK)
    assert not is_open(calendar, lunch)
    assert next_opening(calendar, lunch) == datetime(2026, 6, 15, 13, tzinfo=NEW_YORK)
    assert list(
        open_intervals(calendar, monday_ten, datetime(2026, 6, 15, 20, tzinfo=NEW_YORK))
    ) == [
        (monday_ten, datetime(2026, 6, 15, 12, tzinfo=NEW_YORK)),
        (datetime(2026, 6, 15, 13, tzinfo=NEW_YORK), datetime(2026, 6, 15, 17, tzinfo=NEW_YORK)),
    ]


def test_opening_and_closing_edges_are_half_open():
    calendar = office()
    assert is_open(calendar, datetime(2026, 5, 11, 9, 0, tzinfo=BERLIN))
    assert not is_open(calendar, datetime(2026, 5, 11, 17, 0, tzinfo=BERLIN))
    inside = datetime(2026, 5, 11, 16, 59, 59, 999999, tzinfo=BERLIN)
    assert is_open(calendar, inside)
    assert next_opening(calendar, inside) == inside


def test_overnight_shift_continues_past_midnight():
    calendar = night_shift()
    monday_late = datetime(2026, 6, 8, 23, 0, tzinfo=BERLIN)
    # 23:00-06:00 is 7 h; the 8th hour is Tuesday 22:00-23:00.
    assert add_business_seconds(calendar, monday_late, 8 * HOUR) == datetime(
        2026, 6, 9, 23, tzinfo=BERLIN
    )
    assert is_open(calendar, datetime(2026, 6, 9, 3, 0, tzinfo=BERLIN))
    # Friday's shift ends on Saturday morning; nothing starts on the weekend.
    assert is_open(calendar, datetime(2026, 6, 13, 5, 0, tzinfo=BERLIN))
    assert not is_open(calendar, datetime(2026, 6, 13, 23, 0, tzinfo=BERLIN))
    assert next_opening(calendar, datetime(2026, 6, 13, 6, 0, tzinfo=BERLIN)) == datetime(
        2026, 6, 15, 22, 0, tzinfo=BERLIN
    )


def test_sunday_overnight_shift_spills_into_monday():
    calendar = Calendar.build(time_zone="UTC", weekly_hours=[(6, "22:00", "02:00", True)])
    assert is_open(calendar, datetime(2026, 6, 15, 1, 59, tzinfo=UTC))
    assert not is_open(calendar, datetime(2026, 6, 15, 2, 0, tzinfo=UTC))
    assert add_business_seconds(
        calendar, datetime(2026, 6, 15, 1, tzinfo=UTC), 2 * HOUR
    ) == datetime(2026, 6, 21, 23, 0, tzinfo=UTC)


def test_zero_hour_days_are_skipped():
    calendar = Calendar.build(
        time_zone="Europe/Berlin", weekly_hours=[(d, "09:00", "17:00") for d in (0, 1, 3)]
    )
    tuesday_four = datetime(2026, 6, 9, 16, 0, tzinfo=BERLIN)
    assert add_business_seconds(calendar, tuesday_four, 2 * HOUR) == datetime(
        2026, 6, 11, 10, tzinfo=BERLIN
    )
    wednesday = datetime(2026, 6, 10, 0, 0, tzinfo=BERLIN)
    assert business_seconds_between(calendar, wednesday, wednesday + timedelta(days=1)) == 0


def test_whole_days_touching_at_midnight_form_one_interval():
    calendar = Calendar.build(
        time_zone="UTC", weekly_hours=[(0, "00:00", "24:00"), (1, "00:00", "24:00")]
    )
    monday = datetime(2026, 6, 15, tzinfo=UTC)
    assert list(
        open_intervals(calendar, monday - timedelta(days=1), monday + timedelta(days=7))
    ) == [(monday, monday + timedelta(days=2))]


def test_always_open_calendar_counts_elapsed_time():
    calendar = Calendar.always_open()
    start = datetime(2026, 6, 13, 3, 17, tzinfo=UTC)
    assert add_business_seconds(calendar, start, 30 * 86400) == start + timedelta(days=30)
    assert business_seconds_between(calendar, start, start + timedelta(hours=5)) == 5 * HOUR
    assert is_open(calendar, start)
    assert next_opening(calendar, start) == start
    assert list(open_intervals(calendar, start, start + timedelta(days=9))) == [
        (start, start + timedelta(days=9))
    ]


def test_between_is_zero_when_the_end_is_not_after_the_start():
    start = datetime(2026, 6, 15, 10, tzinfo=BERLIN)
    assert business_seconds_between(office(), start, start) == 0
    assert business_seconds_between(office(), start, start - timedelta(hours=1)) == 0
    assert list(open_intervals(office(), start, start - timedelta(hours=1))) == []


def test_thirty_day_target_skips_whole_weeks():
    # 30 * 24 h = 720 h = 90 eight-hour days = 18 weeks, ending on a Friday at 17:00.
    start = datetime(2026, 6, 1, 9, 0, tzinfo=BERLIN)
    due = add_business_seconds(office(), start, 30 * 86400)
    assert due == datetime(2026, 6, 1, 17, 0, tzinfo=BERLIN) + timedelta(weeks=17, days=4)
    assert business_seconds_between(office(), start, due) == 30 * 86400


def test_multi_year_span_counts_every_weekday():
    calendar = office(time_zone="UTC")
    start, end = date(2024, 1, 1), date(2029, 1, 1)
    weekdays = sum(
        1 for n in range((end - start).days) if (start + timedelta(days=n)).weekday() < 5
    )
    assert (
        business_seconds_between(
            calendar, datetime(2024, 1, 1, tzinfo=UTC), datetime(2029, 1, 1, tzinfo=UTC)
        )
        == weekdays * 8 * HOUR
    )


def test_fractional_seconds_are_kept_to_the_microsecond():
    start = datetime(2026, 6, 15, 9, 0, tzinfo=BERLIN)
    assert add_business_seconds(office(), start, 1.5) == start + timedelta(seconds=1.5)
    assert business_seconds_between(office(), start, start + timedelta(microseconds=7)) == 7e-6


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="aware"):
        add_business_seconds(office(), datetime(2026, 6, 15, 9), 60)
    with pytest.raises(ValueError, match="aware"):
        open_intervals(office(), datetime(2026, 6, 15, 9), datetime(2026, 6, 16, tzinfo=UTC))


@pytest.mark.parametrize("seconds", [-1, -0.5, float("nan"), float("inf")])
def test_negative_or_non_finite_amounts_are_refused(seconds: float):
    with pytest.raises(ValueError):
        add_business_seconds(office(), datetime(2026, 6, 15, 9, tzinfo=UTC), seconds)


def test_non_numeric_amounts_are_refused():
    with pytest.raises(TypeError):
        add_business_seconds(office(), datetime(2026, 6, 15, 9, tzinfo=UTC), True)
    with pytest.raises(TypeError):
        add_business_seconds(office(), datetime(2026, 6, 15, 9, tzinfo=UTC), "60")  # type: ignore[arg-type]
