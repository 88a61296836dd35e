"""Clock changes, with expectations worked out by hand from the zones' 2026 rules.

Europe/Berlin: 2026-03-29 01:00 UTC (02:00 CET -> 03:00 CEST),
               2026-10-25 01:00 UTC (03:00 CEST -> 02:00 CET).
America/New_York: 2026-03-08 07:00 UTC (02:00 EST -> 03:00 EDT),
                  2026-11-01 06:00 UTC (02:00 EDT -> 01:00 EST).
"""

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from helpdesk_businesstime import (
    Calendar,
    Interval,
    add_business_seconds,
    business_seconds_between,
    is_open,
    open_intervals,
)

from .support import office

UTC = timezone.utc
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
HOUR = 3600
MINUTE = 60


def sunday(time_zone: str, start: str, end: str) -> Calendar:
    return Calendar.build(time_zone=time_zone, weekly_hours=[(6, start, end)])


def saturday_night_shift(time_zone: str) -> Calendar:
    return Calendar.build(
        time_zone=time_zone, weekly_hours=[Interval(5, time(22), time(6), overnight=True)]
    )


def intervals_on(calendar: Calendar, day: date) -> list[tuple[datetime, datetime]]:
    start = datetime(day.year, day.month, day.day, tzinfo=UTC) - timedelta(days=1)
    return list(open_intervals(calendar, start, start + timedelta(days=3)))


def test_transitions_used_below_are_the_real_ones():
    assert datetime(2026, 3, 29, 0, 59, tzinfo=UTC).astimezone(BERLIN).hour == 1
    assert datetime(2026, 3, 29, 1, 0, tzinfo=UTC).astimezone(BERLIN).hour == 3
    assert datetime(2026, 10, 25, 1, 0, tzinfo=UTC).astimezone(BERLIN).utcoffset() == timedelta(
        hours=1
    )
    assert datetime(2026, 3, 8, 7, 0, tzinfo=UTC).astimezone(NEW_YORK).hour == 3
    assert datetime(2026, 11, 1, 6, 0, tzinfo=UTC).astimezone(NEW_YORK).hour == 1


def test_berlin_spring_forward_night_shift_is_one_hour_shorter():
    calendar = saturday_night_shift("Europe/Berlin")
    # Sat 22:00 CET = 21:00 UTC; Sun 06:00 CEST = 04:00 UTC: 8 h of wall time, 8 - 1 = 7 h real.
    shift = (datetime(2026, 3, 28, 21, 0, tzinfo=UTC), datetime(2026, 3, 29, 4, 0, tzinfo=UTC))
    assert intervals_on(calendar, date(2026, 3, 29)) == [shift]
    assert business_seconds_between(calendar, *shift) == (8 - 1) * HOUR
    assert add_business_seconds(calendar, shift[0], (8 - 1) * HOUR) == shift[1]


def test_berlin_spring_forward_counts_real_seconds_across_the_jump():
    calendar = saturday_night_shift("Europe/Berlin")
    # From 01:30 CET (00:30 UTC): 30 min until the jump at 01:00 UTC, then 90 min from 03:00 CEST.
    start = datetime(2026, 3, 29, 1, 30, tzinfo=BERLIN)
    assert start == datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
    due = add_business_seconds(calendar, start, 2 * HOUR)
    assert due == datetime(2026, 3, 29, 0, 30, tzinfo=UTC) + timedelta(hours=2)
    assert due.astimezone(BERLIN).time() == time(4, 30)


def test_berlin_fall_back_night_shift_is_one_hour_longer():
    calendar = saturday_night_shift("Europe/Berlin")
    # Sat 22:00 CEST = 20:00 UTC; Sun 06:00 CET = 05:00 UTC: 8 + 1 = 9 h real.
    shift = (datetime(2026, 10, 24, 20, 0, tzinfo=UTC), datetime(2026, 10, 25, 5, 0, tzinfo=UTC))
    assert intervals_on(calendar, date(2026, 10, 25)) == [shift]
    assert business_seconds_between(calendar, *shift) == (8 + 1) * HOUR
    assert add_business_seconds(calendar, shift[0], 8 * HOUR) == shift[1] - timedelta(hours=1)


def test_hours_inside_the_skipped_hour_do_not_exist():
    calendar = sunday("Europe/Berlin", "02:00", "03:00")
    assert intervals_on(calendar, date(2026, 3, 29)) == []
    # A ticket on Saturday before the change waits for the next Sunday's 02:00 CEST (00:00 UTC).
    assert add_business_seconds(
        calendar, datetime(2026, 3, 28, 12, tzinfo=BERLIN), 10 * MINUTE
    ) == datetime(2026, 4, 5, 0, 10, tzinfo=UTC)


def test_hours_straddling_the_skipped_hour_keep_only_what_exists():
    calendar = sunday("Europe/Berlin", "01:30", "03:30")
    # 01:30-02:00 CET (00:30-01:00 UTC) + 03:00-03:30 CEST (01:00-01:30 UTC): 2 - 1 = 1 h.
    assert intervals_on(calendar, date(2026, 3, 29)) == [
        (datetime(2026, 3, 29, 0, 30, tzinfo=UTC), datetime(2026, 3, 29, 1, 30, tzinfo=UTC))
    ]


def test_repeated_hour_within_business_hours_counts_twice():
    calendar = sunday("Europe/Berlin", "02:00", "03:00")
    # 02:00-03:00 CEST (00:00-01:00 UTC) then 02:00-03:00 CET (01:00-02:00 UTC): 2 * 1 h, touching.
    assert intervals_on(calendar, date(2026, 10, 25)) == [
        (datetime(2026, 10, 25, 0, 0, tzinfo=UTC), datetime(2026, 10, 25, 2, 0, tzinfo=UTC))
    ]


def test_part_of_the_repeated_hour_opens_twice():
    calendar = sunday("Europe/Berlin", "02:15", "02:45")
    assert intervals_on(calendar, date(2026, 10, 25)) == [
        (datetime(2026, 10, 25, 0, 15, tzinfo=UTC), datetime(2026, 10, 25, 0, 45, tzinfo=UTC)),
        (datetime(2026, 10, 25, 1, 15, tzinfo=UTC), datetime(2026, 10, 25, 1, 45, tzinfo=UTC)),
    ]
    assert not is_open(calendar, datetime(2026, 10, 25, 1, 0, tzinfo=UTC))
    first_piece_start = datetime(2026, 10, 25, 0, 15, tzinfo=UTC)
    assert add_business_seconds(calendar, first_piece_start, 45 * MINUTE) == datetime(
        2026, 10, 25, 1, 30, tzinfo=UTC
    )


def test_new_york_office_across_spring_forward_weekend():
    calendar = office(time_zone="America/New_York")
    # Fri 16:00 EST (21:00 UTC): 1 h on Friday, 1 h from Mon 09:00 EDT (13:00 UTC).
    friday_four = datetime(2026, 3, 6, 16, 0, tzinfo=NEW_YORK)
    assert add_business_seconds(calendar, friday_four, 2 * HOUR) == datetime(
        2026, 3, 9, 14, 0, tzinfo=UTC
    )  # 10:00 EDT
    assert (
        business_seconds_between(
            calendar,
            datetime(2026, 3, 6, 12, tzinfo=NEW_YORK),
            datetime(2026, 3, 9, 12, tzinfo=NEW_YORK),
        )
        == (5 + 3) * HOUR
    )


def test_new_york_whole_sunday_has_23_hours_in_spring_and_25_in_autumn():
    calendar = sunday("America/New_York", "00:00", "24:00")
    # Spring: 00:00 EST = 05:00 UTC to Mon 00:00 EDT = 04:00 UTC (24 - 1 h).
    assert intervals_on(calendar, date(2026, 3, 8)) == [
        (datetime(2026, 3, 8, 5, tzinfo=UTC), datetime(2026, 3, 9, 4, tzinfo=UTC))
    ]
    # Autumn: 00:00 EDT = 04:00 UTC to Mon 00:00 EST = 05:00 UTC (24 + 1 h).
    autumn = (datetime(2026, 11, 1, 4, tzinfo=UTC), datetime(2026, 11, 2, 5, tzinfo=UTC))
    assert intervals_on(calendar, date(2026, 11, 1)) == [autumn]
    assert business_seconds_between(calendar, *autumn) == (24 + 1) * HOUR
    # 24.5 h after 04:00 UTC is 04:30 UTC on Monday, a wall reading of 23:30 EST on Sunday.
    due = add_business_seconds(calendar, autumn[0], 24.5 * HOUR)
    assert due == datetime(2026, 11, 2, 4, 30, tzinfo=UTC)
    assert due.astimezone(NEW_YORK) == datetime(2026, 11, 1, 23, 30, tzinfo=NEW_YORK)


def test_new_york_repeated_hour_is_open_on_both_passes():
    calendar = sunday("America/New_York", "01:00", "01:30")
    assert is_open(calendar, datetime(2026, 11, 1, 5, 15, tzinfo=UTC))  # 01:15 EDT
    assert not is_open(calendar, datetime(2026, 11, 1, 5, 45, tzinfo=UTC))  # 01:45 EDT
    assert is_open(calendar, datetime(2026, 11, 1, 6, 15, tzinfo=UTC))  # 01:15 EST
    assert (
        business_seconds_between(
            calendar, datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 2, tzinfo=UTC)
        )
        == 2 * 30 * MINUTE
    )


def test_new_york_skipped_hour_has_no_business_time():
    calendar = sunday("America/New_York", "02:00", "03:00")
    assert (
        business_seconds_between(
            calendar, datetime(2026, 3, 8, tzinfo=UTC), datetime(2026, 3, 9, tzinfo=UTC)
        )
        == 0
    )


@pytest.mark.parametrize(
    ("zone", "spring", "autumn"),
    [
        (BERLIN, date(2026, 3, 29), date(2026, 10, 25)),
        (NEW_YORK, date(2026, 3, 8), date(2026, 11, 1)),
    ],
)
def test_always_open_counts_real_elapsed_time_across_clock_changes(
    zone: ZoneInfo, spring: date, autumn: date
):
    fast = Calendar.always_open(time_zone=zone.key)
    # The same hours with a holiday far away take the general path; both must agree.
    general = Calendar.build(
        time_zone=zone.key,
        weekly_hours=[(d, "00:00", "24:00") for d in range(7)],
        holidays=["2035-01-01"],
    )
    assert fast.is_always_open and not general.is_always_open
    for change_day, hours in ((spring, 24 - 1), (autumn, 24 + 1)):
        noon_before = datetime.combine(change_day - timedelta(days=1), time(12), tzinfo=zone)
        noon_after = datetime.combine(change_day, time(12), tzinfo=zone)
        for calendar in (fast, general):
            assert business_seconds_between(calendar, noon_before, noon_after) == hours * HOUR
            assert add_business_seconds(calendar, noon_before, hours * HOUR) == noon_after
        assert list(open_intervals(general, noon_before, noon_after)) == [
            (noon_before.astimezone(UTC), noon_after.astimezone(UTC))
        ]
