"""UTC instants as integer microseconds, and the UTC-offset changes of an IANA zone.

zoneinfo exposes offsets but not its transition table, so transitions are found by sampling the
offset once a day and bisecting to the second where it changes (cached per zone and year). This
assumes a zone never changes its offset twice within 24 hours, which holds for every tzdata zone.
"""

from datetime import datetime, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

MICROS = 1_000_000
DAY = 86_400 * MICROS
WEEK = 7 * DAY

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_ONE_MICRO = timedelta(microseconds=1)


def to_micros(instant: datetime) -> int:
    """Microseconds since the Unix epoch of an aware datetime."""
    if not isinstance(instant, datetime):
        raise TypeError(f"expected an aware datetime, got {type(instant).__name__}")
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"expected an aware datetime, got naive {instant.isoformat()}")
    return (instant - _EPOCH) // _ONE_MICRO


def from_micros(micros: int) -> datetime:
    """The aware UTC datetime of microseconds since the Unix epoch."""
    return _EPOCH + timedelta(microseconds=micros)


def offset_at(zone: ZoneInfo, micros: int) -> int:
    """The zone's UTC offset, in microseconds, at a UTC instant."""
    return from_micros(micros).astimezone(zone).utcoffset() // _ONE_MICRO


def next_boundary(zone: ZoneInfo, micros: int) -> int:
    """The first offset change after an instant, or the start of the year after next if none.

    Segments between boundaries have one constant offset; the artificial boundary keeps the
    search finite for zones without daylight saving time.
    """
    year = from_micros(micros).year
    for candidate in (year, year + 1):
        for transition in _transitions(zone, candidate):
            if transition > micros:
                return transition
    return _year_start(year + 2)


def _year_start(year: int) -> int:
    return (datetime(year, 1, 1, tzinfo=timezone.utc) - _EPOCH) // _ONE_MICRO


@lru_cache(maxsize=4096)
def _transitions(zone: ZoneInfo, year: int) -> tuple[int, ...]:
    """Offset changes t with start(year) < t <= start(year + 1), as UTC microseconds."""
    start, stop = _year_start(year), _year_start(year + 1)
    found: list[int] = []
    previous_at, previous = start, offset_at(zone, start)
    at = start
    while at < stop:
        at = min(at + DAY, stop)
        current = offset_at(zone, at)
        if current != previous:
            found.append(_bisect_change(zone, previous_at, at, previous))
        previous_at, previous = at, current
    return tuple(found)


def _bisect_change(zone: ZoneInfo, low: int, high: int, before: int) -> int:
    """The first whole second in (low, high] whose offset differs from `before`."""
    while high - low > MICROS:
        middle = low + (high - low) // 2 // MICROS * MICROS
        if middle <= low:
            middle = low + MICROS
        if offset_at(zone, middle) == before:
            low = middle
        else:
            high = middle
    return high
