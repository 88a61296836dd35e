"""The backlog forecast method (with a backtest on simulated history) and local-time buckets."""

from __future__ import annotations

import math
import random
import statistics
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from helpdesk_metrics.forecast import project
from helpdesk_metrics.reports import buckets

START = datetime(2026, 3, 2, tzinfo=UTC)


def test_projection_is_backlog_plus_drift_with_a_widening_interval() -> None:
    fc = project(10, [2, 0, 4, 2], days=4, start=START)
    sd = statistics.stdev([2, 0, 4, 2])  # mean 2
    assert [p.expected for p in fc.points] == [12, 14, 16, 18]
    half = 1.96 * sd * math.sqrt(4 + 4 * 4 / 4)  # k days of noise + the drift's estimation error
    assert fc.points[3].upper == pytest.approx(18 + half)
    assert fc.points[3].lower == pytest.approx(18 - half)
    assert fc.points[0].at == START + timedelta(days=1)


def test_projection_never_goes_below_zero_and_needs_two_days_for_a_spread() -> None:
    fc = project(1, [-5], days=2, start=START)
    assert [(p.expected, p.lower, p.upper) for p in fc.points] == [(0.0, 0.0, 0.0), (0.0, 0.0, 0.0)]


def test_backtest_on_simulated_history_covers_about_95_percent() -> None:
    """Simulate backlogs with a known drift and noise; score 14-day forecasts from 28-day history."""
    rng = random.Random(7)
    hits, errors = 0, []
    trials = 400
    for _ in range(trials):
        nets = [rng.gauss(1.5, 4.0) for _ in range(28 + 14)]
        history, future = nets[:28], nets[28:]
        backlog = 200.0
        fc = project(int(backlog), history, days=14, start=START)
        actual = backlog + sum(future)
        point = fc.points[-1]
        hits += point.lower <= actual <= point.upper
        errors.append(abs(point.expected - actual))
    coverage = hits / trials
    mae = statistics.fmean(errors)
    assert 0.92 <= coverage <= 0.98, coverage
    # The error is of the order of the noise accumulated over 14 days (4 * sqrt(14) ~ 15).
    assert mae < 4.0 * math.sqrt(14) * 1.2, mae


def test_day_buckets_follow_local_midnight_across_a_dst_change() -> None:
    paris = ZoneInfo("Europe/Paris")
    start = datetime(2026, 3, 28, 12, tzinfo=UTC)
    cuts = buckets(start, start + timedelta(days=2), "day", paris)
    assert [(a.astimezone(UTC).isoformat(), b.astimezone(UTC).isoformat()) for a, b in cuts] == [
        ("2026-03-28T12:00:00+00:00", "2026-03-28T23:00:00+00:00"),
        ("2026-03-28T23:00:00+00:00", "2026-03-29T22:00:00+00:00"),  # a 23-hour day
        ("2026-03-29T22:00:00+00:00", "2026-03-30T12:00:00+00:00"),
    ]


def test_week_and_month_buckets_start_on_monday_and_the_first() -> None:
    start = datetime(2026, 1, 28, tzinfo=UTC)  # a Wednesday
    weeks = buckets(start, start + timedelta(days=10), "week", ZoneInfo("UTC"))
    assert [b.isoformat() for _, b in weeks][:1] == ["2026-02-02T00:00:00+00:00"]
    months = buckets(start, datetime(2026, 3, 15, tzinfo=UTC), "month", ZoneInfo("UTC"))
    assert [a.day for a, _ in months] == [28, 1, 1]
    hours = buckets(start, start + timedelta(hours=3), "hour", ZoneInfo("UTC"))
    assert len(hours) == 3
