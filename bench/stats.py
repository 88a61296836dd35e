"""Medians and percentiles of latency samples."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) by nearest rank; nan for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


@dataclass(frozen=True)
class Summary:
    """Count, median and tail percentiles of one sample set (same unit as the samples)."""

    count: int
    p50: float
    p90: float
    p99: float
    max: float

    def as_dict(self) -> dict[str, float]:
        """JSON-ready form."""
        return {"count": self.count, "p50": self.p50, "p90": self.p90, "p99": self.p99, "max": self.max}


def summarize(values: Sequence[float]) -> Summary:
    """The summary of `values`."""
    return Summary(len(values), percentile(values, 50), percentile(values, 90),
                   percentile(values, 99), max(values) if values else math.nan)

