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
    return sorted_median(sorted(values))


def percentile(values: Sequence[float], p: float) -> float | None:
    """Nearest-rank percentile: the ceil(p/100 * n)-th smallest value (easy to check by hand)."""
    return sorted_percentile(sorted(values), p)


# The `sorted_` forms take values already in ascending order: a duration KPI sorts its
# ~100k values once for both its median and its p90.
def sorted_median(ordered: Sequence[float]) -> float | None:
    """`median` of values already sorted ascending."""
    n = len(ordered)
    if not n:
        return None
    # statistics.median's rule, without its copy and sort.
    if n % 2 == 1:
        return float(ordered[n // 2])
    return float((ordered[n // 2 - 1] + ordered[n // 2]) / 2)


def sorted_percentile(ordered: Sequence[float], p: float) -> float | None:
    """`percentile` of values already sorted ascending."""
    if not ordered:
        return None
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
