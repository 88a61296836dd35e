import dataclasses
import pickle
from datetime import date, datetime, time

import pytest

from helpdesk_businesstime import Calendar, CalendarError, Interval

from .support import WEEKDAYS_9_TO_5, office


def refusal(**kwargs: object) -> CalendarError:
    definition = {"time_zone": "Europe/Berlin", "weekly_hours": WEEKDAYS_9_TO_5, **kwargs}
    with pytest.raises(CalendarError) as caught:
        Calendar.build(**definition)  # type: ignore[arg-type]
    return caught.value


def test_unknown_time_zone_is_refused():
    error = refusal(time_zone="Mars/Olympus_Mons")
    assert error.field == "time_zone"
    assert "unknown time zone" in error.message


@pytest.mark.parametrize("zone", ["", "../etc/passwd", "Europe/", 42])
def test_malformed_time_zone_is_refused(zone: object):
    assert refusal(time_zone=zone).field == "time_zone"


def test_unknown_country_is_refused():
    assert refusal(country="XX").field == "country"


def test_unknown_subdivision_is_refused():
    error = refusal(country="DE", subdivision="XX")
    assert error.field == "subdivision"
    assert "DE has no subdivision 'XX'" in error.message


def test_subdivision_without_country_is_refused():
    assert refusal(subdivision="BY").field == "subdivision"


def test_inverted_interval_is_refused_unless_flagged_overnight():
    error = refusal(weekly_hours=[(0, "17:00", "09:00")])
    assert error.field == "weekly_hours[0].end"
    assert "inverted" in error.message
    assert refusal(weekly_hours=[(0, "09:00", "09:00")]).field == "weekly_hours[0].end"
    assert Calendar.build(time_zone="UTC", weekly_hours=[(0, "17:00", "09:00", True)])


def test_overnight_interval_longer_than_a_day_is_refused():
    assert refusal(weekly_hours=[(0, "09:00", "10:00", True)]).field == "weekly_hours[0].end"


def test_overnight_flag_on_an_interval_ending_at_midnight_is_refused():
    assert refusal(weekly_hours=[(0, "18:00", "24:00", True)]).field == "weekly_hours[0].end"


def test_overlapping_intervals_on_the_same_day_are_refused():
    error = refusal(
        weekly_hours=[(2, "09:00", "12:00"), (1, "09:00", "17:00"), (2, "11:00", "17:00")]
    )
    assert error.field == "weekly_hours[2]"
    assert error.message == "Wed 11:00-17:00 overlaps weekly_hours[0] (Wed 09:00-12:00)"


def test_duplicate_intervals_are_refused():
    assert (
        refusal(weekly_hours=[(0, "09:00", "17:00"), (0, "09:00", "17:00")]).field
        == "weekly_hours[1]"
    )


def test_overnight_spill_over_into_the_next_days_hours_is_refused():
    error = refusal(weekly_hours=[(0, "22:00", "06:00", True), (1, "05:00", "09:00")])
    assert error.field == "weekly_hours[1]"
    assert "Mon 22:00-06:00+1" in error.message


def test_sunday_overnight_spill_over_into_monday_is_refused():
    error = refusal(weekly_hours=[(0, "00:00", "08:00"), (6, "20:00", "01:00", True)])
    assert error.field == "weekly_hours[1]"


def test_touching_intervals_are_accepted():
    calendar = Calendar.build(
        time_zone="UTC",
        weekly_hours=[
            (0, "09:00", "12:00"),
            (0, "12:00", "17:00"),
            (0, "22:00", "06:00", True),
            (1, "06:00", "10:00"),
            (6, "18:00", "24:00"),
        ],
    )
    assert calendar.weekly_seconds == (3 + 5 + 8 + 4 + 6) * 3600


def test_midnight_end_means_end_of_day_and_whole_day_is_24_hours():
    calendar = Calendar.build(
        time_zone="UTC", weekly_hours=[(0, "18:00", "00:00"), (1, "00:00", "00:00")]
    )
    assert calendar.weekly_seconds == 6 * 3600 + 24 * 3600


def test_overnight_interval_ending_at_its_start_lasts_24_hours():
    calendar = Calendar.build(time_zone="UTC", weekly_hours=[(0, "08:00", "08:00", True)])
    assert calendar.weekly_seconds == 24 * 3600


def test_calendar_without_hours_is_refused():
    error = refusal(weekly_hours=[])
    assert error.field == "weekly_hours"
    assert "always_open" in error.message


@pytest.mark.parametrize(
    ("interval", "field"),
    [
        ((7, "09:00", "17:00"), "weekly_hours[0].weekday"),
        ((-1, "09:00", "17:00"), "weekly_hours[0].weekday"),
        ((True, "09:00", "17:00"), "weekly_hours[0].weekday"),
        ((0, "9am", "17:00"), "weekly_hours[0].start"),
        ((0, "24:00", "17:00"), "weekly_hours[0].start"),
        ((0, "09:60", "17:00"), "weekly_hours[0].start"),
        ((0, "09:00", "25:00"), "weekly_hours[0].end"),
        ((0, time(9, 0, 0, 5), time(17)), "weekly_hours[0].start"),
        ((0, "09:00", "17:00", "yes"), "weekly_hours[0].overnight"),
        ({"weekday": 0, "start": "09:00"}, "weekly_hours[0].end"),
        ("Mon 09:00-17:00", "weekly_hours[0]"),
    ],
)
def test_malformed_interval_is_refused_naming_the_field(interval: object, field: str):
    assert refusal(weekly_hours=[interval]).field == field


def test_malformed_holidays_are_refused():
    assert refusal(holidays=["2026-13-01"]).field == "holidays[0]"
    assert refusal(holidays=[datetime(2026, 12, 24)]).field == "holidays[0]"
    assert refusal(holidays="2026-12-24").field == "holidays"


def test_direct_construction_is_validated_too():
    with pytest.raises(CalendarError) as caught:
        Calendar(time_zone="UTC", weekly_hours=(Interval(0, time(17), time(9)),))
    assert caught.value.field == "weekly_hours[0].end"
    with pytest.raises(CalendarError):
        Calendar(time_zone="UTC", weekly_hours=("09:00-17:00",))  # type: ignore[arg-type]


def test_calendar_is_frozen_and_equal_regardless_of_interval_order():
    first = Calendar.build(
        time_zone="UTC", weekly_hours=[(1, "09:00", "17:00"), (0, "09:00", "17:00")]
    )
    second = Calendar.build(
        time_zone="UTC", weekly_hours=[(0, "09:00", "17:00"), (1, "09:00", "17:00")]
    )
    assert first == second
    assert hash(first) == hash(second)
    with pytest.raises(AttributeError):
        first.time_zone = "Europe/Berlin"  # type: ignore[misc]


def test_validate_accepts_a_constructed_calendar():
    calendar = office(country="DE", subdivision="BY", holidays=[date(2026, 12, 24)], name="Munich")
    calendar.validate()
    assert not calendar.is_always_open
    assert Calendar.always_open().is_always_open


def test_generators_are_accepted_as_input():
    calendar = Calendar(
        time_zone="UTC",
        weekly_hours=(Interval(d, time(9), time(17)) for d in range(5)),
        holidays=(date(2026, 12, n) for n in (24, 31)),
    )
    assert len(calendar.weekly_hours) == 5
    assert calendar.holidays == {date(2026, 12, 24), date(2026, 12, 31)}


def test_replace_and_pickle_keep_a_working_calendar():
    calendar = office(country="DE", name="Berlin")
    renamed = dataclasses.replace(calendar, name="Berlin office")
    assert renamed.name == "Berlin office" and renamed.weekly_seconds == 40 * 3600
    with pytest.raises(CalendarError):
        dataclasses.replace(calendar, time_zone="Nowhere/Land")
    assert pickle.loads(pickle.dumps(calendar)) == calendar
