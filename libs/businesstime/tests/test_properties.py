"""Properties over the sample calendars and random ones, checked against a naive oracle."""

from datetime import datetime, time, timedelta, timezone
from itertools import pairwise

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpdesk_businesstime import (
    Calendar,
    Interval,
    add_business_seconds,
    business_seconds_between,
    is_open,
    next_opening,
    open_intervals,
)

from .support import SAMPLE_CALENDARS, oracle_is_open

UTC = timezone.utc
ONE_MICRO = timedelta(microseconds=1)
EPSILON = 1e-6
ZONES = [
    "Europe/Berlin",
    "America/New_York",
    "Australia/Sydney",
    "Asia/Kolkata",
    "UTC",
    "America/Santiago",
]
CLOCK_CHANGES = [
    datetime(2026, 3, 29, 1, tzinfo=UTC),
    datetime(2026, 10, 25, 1, tzinfo=UTC),
    datetime(2026, 3, 8, 7, tzinfo=UTC),
    datetime(2026, 11, 1, 6, tzinfo=UTC),
    datetime(2026, 4, 4, 16, tzinfo=UTC),
    datetime(2026, 10, 3, 16, tzinfo=UTC),
]

# The first call for a zone-year samples its offsets and loads public holidays; no deadline.
relaxed = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def random_calendars(draw: st.DrawFn) -> Calendar:
    """Random non-overlapping minute-aligned hours, some of them overnight, in a random zone."""
    intervals: list[Interval] = []
    for weekday in range(7):
        cuts = sorted(draw(st.sets(st.integers(0, 1440), max_size=6)))
        for start, end in zip(cuts[::2], cuts[1::2], strict=False):
            intervals.append(Interval(weekday, _time(start), _time(end)))
    if draw(st.booleans()):
        # A night shift where the day ends by 20:00 and the next day starts at 08:00 or later.
        weekday = draw(st.integers(0, 6))
        today = [i for i in intervals if i.weekday == weekday]
        tomorrow = [i for i in intervals if i.weekday == (weekday + 1) % 7]
        if all(i.end_micros <= 20 * 3600 * 10**6 for i in today) and all(
            i.start >= time(8) for i in tomorrow
        ):
            intervals.append(Interval(weekday, time(20, 30), time(7, 45), overnight=True))
    if not intervals:
        intervals.append(Interval(draw(st.integers(0, 6)), time(10), time(11)))
    holidays = draw(
        st.frozensets(
            st.dates(min_value=datetime(2025, 12, 1).date(), max_value=datetime(2027, 2, 1).date()),
            max_size=10,
        )
    )
    return Calendar(
        time_zone=draw(st.sampled_from(ZONES)), weekly_hours=tuple(intervals), holidays=holidays
    )


def _time(minutes: int) -> time:
    return time(0) if minutes == 1440 else time(minutes // 60, minutes % 60)


calendars = st.sampled_from(list(SAMPLE_CALENDARS.values())) | random_calendars()
instants = st.one_of(
    st.datetimes(
        min_value=datetime(2025, 12, 1), max_value=datetime(2027, 1, 31), timezones=st.just(UTC)
    ),
    st.builds(
        lambda change, delta: change + delta,
        st.sampled_from(CLOCK_CHANGES),
        st.timedeltas(min_value=timedelta(days=-2), max_value=timedelta(days=2)),
    ),
)
whole_seconds = st.integers(min_value=0, max_value=60 * 86400)
fractional_seconds = st.integers(min_value=0, max_value=40 * 86400 * 10**6).map(
    lambda us: us / 10**6
)


@relaxed
@given(calendars, instants, whole_seconds | fractional_seconds)
def test_business_time_between_start_and_due_is_the_target(
    calendar: Calendar, start: datetime, seconds: float
):
    due = add_business_seconds(calendar, start, seconds)
    assert due >= start
    assert abs(business_seconds_between(calendar, start, due) - seconds) <= EPSILON
    if seconds >= 1e-6:
        assert is_open(calendar, due - ONE_MICRO)


@relaxed
@given(calendars, instants, whole_seconds, whole_seconds)
def test_adding_in_two_steps_equals_adding_the_sum(
    calendar: Calendar, start: datetime, a: int, b: int
):
    assert add_business_seconds(
        calendar, add_business_seconds(calendar, start, a), b
    ) == add_business_seconds(calendar, start, a + b)


@relaxed
@given(calendars, instants, instants, whole_seconds, whole_seconds)
def test_due_times_are_monotonic(calendar: Calendar, t1: datetime, t2: datetime, s1: int, s2: int):
    t1, t2 = sorted((t1, t2))
    s1, s2 = sorted((s1, s2))
    assert add_business_seconds(calendar, t1, s1) <= add_business_seconds(calendar, t1, s2)
    assert add_business_seconds(calendar, t1, s1) <= add_business_seconds(calendar, t2, s1)
    assert business_seconds_between(calendar, t1, t2) >= 0


@relaxed
@given(calendars, instants, instants, instants)
def test_between_is_additive(calendar: Calendar, a: datetime, b: datetime, c: datetime):
    a, b, c = sorted((a, b, c))
    whole = business_seconds_between(calendar, a, c)
    parts = business_seconds_between(calendar, a, b) + business_seconds_between(calendar, b, c)
    assert abs(whole - parts) <= EPSILON


@relaxed
@given(calendars, instants, st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=20)))
def test_open_intervals_are_ordered_separate_and_sum_to_between(
    calendar: Calendar, a: datetime, length: timedelta
):
    b = a + length
    intervals = list(open_intervals(calendar, a, b))
    total = sum((end - start for start, end in intervals), timedelta())
    assert abs(total.total_seconds() - business_seconds_between(calendar, a, b)) <= EPSILON
    for start, end in intervals:
        assert a <= start < end <= b
        assert start.tzinfo is UTC and end.tzinfo is UTC
        assert is_open(calendar, start) and is_open(calendar, end - ONE_MICRO)
    for (_, end), (start, _) in pairwise(intervals):
        assert end < start
        assert not is_open(calendar, end)


@relaxed
@given(calendars, instants)
def test_is_open_agrees_with_the_naive_oracle(calendar: Calendar, t: datetime):
    assert is_open(calendar, t) == oracle_is_open(calendar, t)


@relaxed
@given(calendars, instants)
def test_next_opening_is_the_first_open_instant(calendar: Calendar, t: datetime):
    opening = next_opening(calendar, t)
    assert opening >= t
    assert is_open(calendar, opening)
    assert oracle_is_open(calendar, opening)
    assert business_seconds_between(calendar, t, opening) == 0
    assert add_business_seconds(calendar, t, 1e-6) == opening + ONE_MICRO
