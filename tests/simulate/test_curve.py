"""The arrival curve: busy office hours, quiet nights and weekends."""

from __future__ import annotations

import pytest

from helpdesk.simulate import Options
from helpdesk.simulate.curve import (
    DAY,
    HOUR,
    clock,
    expected_tickets,
    factor,
    parse_clock,
    parse_span,
)
from helpdesk.simulate.plan import arrivals


def at(day: int, hour: float) -> float:
    return day * DAY + hour * HOUR


def test_the_peak_is_monday_ten_oclock() -> None:
    peak = max(factor(at(d, h)) for d in range(7) for h in range(24))
    assert factor(at(0, 10)) == peak == 1.0


@pytest.mark.parametrize("day", range(5))
def test_office_hours_are_busier_than_the_night(day: int) -> None:
    office = min(factor(at(day, h)) for h in range(9, 17))
    night = max(factor(at(day, h)) for h in (0, 1, 2, 3, 4, 22, 23))
    assert office > 5 * night


@pytest.mark.parametrize("hour", range(24))
def test_weekends_are_quieter_than_weekdays(hour: int) -> None:
    weekday = min(factor(at(d, hour)) for d in range(5))
    assert factor(at(5, hour)) < weekday and factor(at(6, hour)) < weekday


def test_lunch_dips_between_the_morning_and_afternoon_peaks() -> None:
    assert factor(at(1, 12)) < factor(at(1, 10)) and factor(at(1, 12)) < factor(at(1, 14))


def test_simulated_arrivals_follow_the_curve() -> None:
    week = arrivals(Options(seed=3, duration=7 * DAY, start=0, rate=60))
    office = sum(1 for t in week if t % DAY >= 9 * HOUR and t % DAY < 17 * HOUR and t < 5 * DAY)
    night = sum(1 for t in week if t % DAY < 6 * HOUR)
    weekend = sum(1 for t in week if t >= 5 * DAY)
    assert office > 10 * night
    assert weekend < len(week) / 10
    expected = expected_tickets(0, 7 * DAY, 60)
    assert abs(len(week) - expected) < 4 * expected ** 0.5


def test_clock_and_span_parsing() -> None:
    assert parse_clock("Mon 08:00") == 8 * HOUR
    assert parse_clock("wed 9:30") == at(2, 9.5)
    assert clock(at(4, 17.25)) == "Fri 17:15"
    assert [parse_span(s) for s in ("90s", "45m", "8h", "2d", "30")] == [90, 2700, 8 * HOUR, 2 * DAY, 30]
    for bad in ("", "soon", "-1h"):
        with pytest.raises(ValueError):
            parse_span(bad)
    with pytest.raises(ValueError):
        parse_clock("Someday 25:00")
