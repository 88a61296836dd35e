"""A compiled calendar in local wall-clock time: weekly spans, holidays, and sums over them.

Wall time is a naive local reading expressed as integer microseconds since 1970-01-01 00:00
(no offsets involved), and local dates are proleptic Gregorian ordinals. Within one stretch of
constant UTC offset, wall time is UTC shifted by that offset, so `arithmetic` cuts a UTC range
at the zone's offset changes and asks this module about each piece in wall time.
"""

from bisect import bisect_left
from collections.abc import Iterator
from datetime import date
from functools import lru_cache

import holidays as holiday_data

from helpdesk_businesstime.zones import DAY, WEEK

EPOCH_ORDINAL = date(1970, 1, 1).toordinal()

Spans = tuple[tuple[int, int], ...]


def ordinal_of(wall: int) -> int:
    """The local date ordinal of a wall-clock reading."""
    return EPOCH_ORDINAL + wall // DAY


def midnight_of(ordinal: int) -> int:
    """The wall-clock reading of a local date's 00:00."""
    return (ordinal - EPOCH_ORDINAL) * DAY


def weekday_of(ordinal: int) -> int:
    """Monday=0 .. Sunday=6, as `date.weekday()` (ordinal 1 is a Monday)."""
    return (ordinal - 1) % 7


@lru_cache(maxsize=1024)
def public_holidays(country: str, subdivision: str | None, year: int) -> frozenset[int]:
    """Ordinals of a country's public holidays in one year (the `holidays` package, cached)."""
    found = holiday_data.country_holidays(country, subdiv=subdivision, years=year)
    return frozenset(day.toordinal() for day in found if day.year == year)


class _Year:
    """Holidays of one year: membership, sorted ordinals and the business time they remove."""

    __slots__ = ("dates", "ordinals", "removed")

    def __init__(self, dates: frozenset[int], day_total: tuple[int, ...]) -> None:
        self.dates = dates
        self.ordinals = tuple(sorted(dates))
        removed = [0]
        for ordinal in self.ordinals:
            removed.append(removed[-1] + day_total[weekday_of(ordinal)])
        self.removed = tuple(removed)


class Schedule:
    """Weekly spans per weekday (microseconds after that day's 00:00, sorted) plus holidays."""

    __slots__ = (
        "by_weekday",
        "day_total",
        "week_total",
        "always_open",
        "_cumulative",
        "_explicit",
        "_country",
        "_subdivision",
        "_years",
    )

    def __init__(
        self,
        by_weekday: tuple[Spans, ...],
        explicit: frozenset[int],
        country: str | None,
        subdivision: str | None,
    ) -> None:
        self.by_weekday = by_weekday
        self.day_total = tuple(sum(end - start for start, end in spans) for spans in by_weekday)
        self.week_total = sum(self.day_total)
        self.always_open = self.week_total == WEEK and not explicit and country is None
        cumulative = [0]
        for index in range(14):
            cumulative.append(cumulative[-1] + self.day_total[index % 7])
        self._cumulative = tuple(cumulative)
        self._explicit = explicit
        self._country = country
        self._subdivision = subdivision
        self._years: dict[int, _Year] = {}

    def _year(self, year: int) -> _Year:
        cached = self._years.get(year)
        if cached is None:
            first, last = date(year, 1, 1).toordinal(), date(year, 12, 31).toordinal()
            dates = frozenset(o for o in self._explicit if first <= o <= last)
            if self._country is not None:
                dates |= public_holidays(self._country, self._subdivision, year)
            cached = self._years[year] = _Year(dates, self.day_total)
        return cached

    def is_holiday(self, ordinal: int) -> bool:
        """Whether a local date is an explicit or public holiday."""
        return ordinal in self._year(date.fromordinal(ordinal).year).dates

    def spans_of(self, ordinal: int) -> Spans:
        """The day's spans relative to its 00:00; none on a holiday."""
        if self.is_holiday(ordinal):
            return ()
        return self.by_weekday[weekday_of(ordinal)]

    def _nominal(self, first: int, stop: int) -> int:
        """Business time of the dates [first, stop) ignoring holidays."""
        weeks, rest = divmod(stop - first, 7)
        weekday = weekday_of(first)
        return (
            weeks * self.week_total + self._cumulative[weekday + rest] - self._cumulative[weekday]
        )

    def _removed(self, first: int, stop: int) -> int:
        """Business time that holidays remove from the dates [first, stop)."""
        removed = 0
        for year in range(date.fromordinal(first).year, date.fromordinal(stop - 1).year + 1):
            data = self._year(year)
            low = bisect_left(data.ordinals, first)
            high = bisect_left(data.ordinals, stop)
            removed += data.removed[high] - data.removed[low]
        return removed

    def whole_days(self, first: int, stop: int) -> int:
        """Business time of all spans of the dates [first, stop)."""
        if stop <= first:
            return 0
        return self._nominal(first, stop) - self._removed(first, stop)

    def _clipped(self, ordinal: int, low: int, high: int) -> int:
        base = midnight_of(ordinal)
        total = 0
        for start, end in self.spans_of(ordinal):
            overlap = min(base + end, high) - max(base + start, low)
            if overlap > 0:
                total += overlap
        return total

    def wall_sum(self, low: int, high: int) -> int:
        """Business microseconds within the wall range [low, high)."""
        if high <= low:
            return 0
        first, last = ordinal_of(low), ordinal_of(high)
        # A date's spans lie within its own and the next date (overnight), so only the dates
        # next to either end need clipping; the ones between count whole.
        if last - first < 3:
            return sum(self._clipped(o, low, high) for o in range(first - 1, last + 1))
        edges = (first - 1, first, last - 1, last)
        return sum(self._clipped(o, low, high) for o in edges) + self.whole_days(
            first + 1, last - 1
        )

    def wall_add(self, low: int, amount: int) -> int:
        """The earliest wall reading w >= low with `amount` business microseconds in [low, w)."""
        if amount <= 0:
            return low
        first = ordinal_of(low)
        for ordinal in (first - 1, first):
            base = midnight_of(ordinal)
            for start, end in self.spans_of(ordinal):
                start, end = max(base + start, low), base + end
                if end <= start:
                    continue
                if end - start >= amount:
                    return start + amount
                amount -= end - start
        ordinal = first + 1
        while True:
            weeks = (amount - 1) // self.week_total
            if weeks:
                # Whole weeks hold at most week_total each, so skipping them never overshoots.
                amount -= self.whole_days(ordinal, ordinal + 7 * weeks)
                ordinal += 7 * weeks
                continue
            base = midnight_of(ordinal)
            for start, end in self.spans_of(ordinal):
                if end - start >= amount:
                    return base + start + amount
                amount -= end - start
            ordinal += 1

    def wall_spans(self, low: int, high: int) -> Iterator[tuple[int, int]]:
        """Business wall spans clipped to [low, high), in order (adjacent ones not merged)."""
        ordinal = ordinal_of(low) - 1
        while midnight_of(ordinal) < high:
            base = midnight_of(ordinal)
            for start, end in self.spans_of(ordinal):
                start, end = max(base + start, low), min(base + end, high)
                if end > start:
                    yield start, end
            ordinal += 1

    def is_open_at(self, wall: int) -> bool:
        """Whether a wall reading falls in a span of its date or the previous date's overnight."""
        today = ordinal_of(wall)
        for ordinal in (today - 1, today):
            offset = wall - midnight_of(ordinal)
            for start, end in self.spans_of(ordinal):
                if start <= offset < end:
                    return True
        return False
