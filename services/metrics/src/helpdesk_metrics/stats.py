"""Small, exact statistics shared by the KPI definitions (pure)."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence


def mean(values: Sequence[float]) -> float | None:
    """Arithmetic mean; None for no values."""
    return math.fsum(values) / len(values) if values else None


def median(values: Sequence[float]) -> float | None:
    """Median (mean of the two middle values for an even count); None for no values."""
    return float(statistics.median(values)) if values else None


def percentile(values: Sequence[float], p: float) -> float | None:
    """Nearest-rank percentile: the ceil(p/100 * n)-th smallest value (easy to check by hand)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return float(ordered[rank - 1])


def ratio(numerator: float, denominator: float) -> float | None:
    """numerator / denominator; None when the denominator is zero."""
    return numerator / denominator if denominator else None


def coefficient_of_variation(values: Sequence[float]) -> float | None:
    """Population standard deviation / mean; None without values or with a zero mean."""
    if not values:
        return None
    m = math.fsum(values) / len(values)
    if m == 0:
        return None
    return statistics.pstdev(values) / m
