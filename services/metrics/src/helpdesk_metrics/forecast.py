"""Backlog forecast (KPI 7): a random walk with drift on the daily net inflow.

Pure: `project` takes the backlog and the daily history; kpis.forecast_backlog feeds it.

Method: split the window into whole days ending at its stop; each day's net inflow is
tickets created minus tickets resolved that day. With mean m and (sample) standard
deviation s of those n daily values, the backlog k days ahead is expected at B + k*m
with a 95 % prediction interval B + k*m +/- 1.96 * s * sqrt(k + k^2/n) (clipped at 0),
where B is the backlog at the stop: k days of noise plus the error of the estimated drift.
Fewer than two days of history: s = 0. The unit tests backtest it on simulated history.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

METHOD = "random walk with drift on daily net inflow (created - resolved); 95% interval"
Z95 = 1.96


@dataclass(frozen=True)
class ForecastPoint:
    """The forecast for one day ahead."""

    day: int
    at: datetime
    expected: float
    lower: float
    upper: float


@dataclass(frozen=True)
class Forecast:
    """A backlog forecast with the statistics it came from."""

    backlog: int
    daily_net_mean: float
    daily_net_sd: float
    history_days: int
    points: tuple[ForecastPoint, ...]
    method: str = METHOD

    def point_dicts(self) -> list[dict[str, Any]]:
        """The points as GET /v1/backlog/forecast serialises them, as plain JSON values."""
        # `at` as the ISO string the route's encoder writes, so a stored copy stays plain JSON.
        return [{**asdict(p), "at": p.at.isoformat()} for p in self.points]


def project(backlog: int, daily_net: list[float], days: int, start: datetime) -> Forecast:
    """Forecast `days` ahead of `start` from a backlog and a history of daily net inflows."""
    m = statistics.fmean(daily_net) if daily_net else 0.0
    s = statistics.stdev(daily_net) if len(daily_net) >= 2 else 0.0
    points = []
    for k in range(1, days + 1):
        expected = backlog + k * m
        half = Z95 * s * math.sqrt(k + k * k / len(daily_net)) if daily_net else 0.0
        points.append(ForecastPoint(k, start + timedelta(days=k), max(expected, 0.0),
                                    max(expected - half, 0.0), max(expected + half, 0.0)))
    return Forecast(backlog, m, s, len(daily_net), tuple(points))
