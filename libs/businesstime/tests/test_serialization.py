import json
from datetime import date, datetime, timedelta, timezone

import pytest

from helpdesk_businesstime import (
    Calendar,
    CalendarError,
    business_seconds_between,
    open_intervals,
)

from .support import SAMPLE_CALENDARS


@pytest.mark.parametrize("name", sorted(SAMPLE_CALENDARS))
def test_calendar_survives_a_json_round_trip(name: str):
    calendar = SAMPLE_CALENDARS[name]
    rebuilt = Calendar.from_dict(json.loads(json.dumps(calendar.to_dict())))
    assert rebuilt == calendar
    start = datetime(2026, 3, 1, tzinfo=timezone.utc)
    end = start + timedelta(days=300)
    assert list(open_intervals(rebuilt, start, end)) == list(open_intervals(calendar, start, end))
    assert business_seconds_between(rebuilt, start, end) == business_seconds_between(
        calendar, start, end
    )


def test_to_dict_uses_hh_mm_times_and_iso_dates():
    calendar = Calendar.build(
        name="night desk",
        time_zone="Europe/Berlin",
        weekly_hours=[(0, "22:00", "06:00", True), (5, "18:00", "24:00"), (6, "08:30:15", "12:00")],
        holidays=[date(2026, 12, 31), date(2026, 12, 24)],
        country="DE",
        subdivision="BY",
    )
    assert calendar.to_dict() == {
        "name": "night desk",
        "time_zone": "Europe/Berlin",
        "weekly_hours": [
            {"weekday": 0, "start": "22:00", "end": "06:00", "overnight": True},
            {"weekday": 5, "start": "18:00", "end": "24:00", "overnight": False},
            {"weekday": 6, "start": "08:30:15", "end": "12:00", "overnight": False},
        ],
        "holidays": ["2026-12-24", "2026-12-31"],
        "country": "DE",
        "subdivision": "BY",
    }


def test_from_dict_ignores_unknown_keys_and_defaults_optional_ones():
    calendar = Calendar.from_dict(
        {
            "time_zone": "UTC",
            "weekly_hours": [{"weekday": 0, "start": "09:00", "end": "17:00"}],
            "v": 2,
        }
    )
    assert calendar.holidays == frozenset()
    assert calendar.country is None
    assert calendar.name == ""


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"weekly_hours": []}, "time_zone"),
        ({"time_zone": "UTC"}, "weekly_hours"),
        ({"time_zone": "UTC", "weekly_hours": {"weekday": 0}}, "weekly_hours"),
        (
            {"time_zone": "UTC", "weekly_hours": [{"weekday": 0, "start": "x", "end": "17:00"}]},
            "weekly_hours[0].start",
        ),
        (
            {"time_zone": "UTC", "weekly_hours": [[0, "09:00", "17:00"]], "holidays": ["soon"]},
            "holidays[0]",
        ),
        ([], "calendar"),
    ],
)
def test_from_dict_refuses_malformed_input(data: object, field: str):
    with pytest.raises(CalendarError) as caught:
        Calendar.from_dict(data)  # type: ignore[arg-type]
    assert caught.value.field == field
