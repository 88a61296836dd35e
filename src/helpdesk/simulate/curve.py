"""The arrival rate curve: how busy the help desk is by weekday and hour (pure).

    rate(t) = peak x HOURLY[hour of t] x WEEKDAY[weekday of t]     (tickets per simulated hour)

Simulated time `t` counts seconds from Monday 00:00 of a simulated week (it wraps
every 7 days). Both factors peak at 1.0: the busiest hour (Monday 10:00) gets `peak`
tickets per hour; nights get about 4 % of the peak, Saturdays 25 % and Sundays 15 % of
the same weekday hour. Shape after the seeds' "peaks and troughs": a morning peak
after people start work, a lunch dip, a smaller afternoon peak, quiet evenings.
"""

from __future__ import annotations

HOUR = 3600.0
DAY = 24 * HOUR
WEEK = 7 * DAY

#: Share of the peak rate by hour of day (index 0 = 00:00-01:00).
HOURLY: tuple[float, ...] = (
    0.04, 0.03, 0.03, 0.03, 0.04, 0.06,   # 00-05: night
    0.12, 0.35, 0.75, 0.95, 1.00, 0.90,   # 06-11: people arrive, morning peak
    0.60, 0.80, 0.85, 0.75, 0.60, 0.40,   # 12-17: lunch dip, afternoon peak, winding down
    0.22, 0.14, 0.10, 0.08, 0.06, 0.05,   # 18-23: evening
)
#: Share by weekday (0 = Monday): Monday's backlog of the weekend, a quiet Friday, weekends.
WEEKDAY: tuple[float, ...] = (1.00, 0.92, 0.90, 0.88, 0.78, 0.25, 0.15)
#: Day names for display.
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def factor(t: float) -> float:
    """Share of the peak rate at simulated time `t` (0 < factor <= 1)."""
    t = t % WEEK
    return HOURLY[int(t % DAY // HOUR)] * WEEKDAY[int(t // DAY)]


def rate(t: float, peak: float) -> float:
    """Tickets per simulated hour at simulated time `t` when the busiest hour gets `peak`."""
    return peak * factor(t)


def expected_tickets(start: float, duration: float, peak: float) -> float:
    """Expected number of arrivals in [start, start + duration) (integral of the rate)."""
    total, t, end = 0.0, start, start + duration
    while t < end:
        step = min(HOUR - t % HOUR, end - t)
        total += rate(t, peak) * step / HOUR
        t += step
    return total


def clock(t: float) -> str:
    """`t` as `Mon 09:30` (simulated week time)."""
    t = t % WEEK
    minutes = int(t % DAY // 60)
    return f"{DAY_NAMES[int(t // DAY)]} {minutes // 60:02d}:{minutes % 60:02d}"


def parse_clock(text: str) -> float:
    """`Mon 09:30` (or `mon 9:30`, `Mon`) as seconds since Monday 00:00."""
    parts = text.strip().split()
    if not parts or len(parts) > 2:
        raise ValueError(f"expected e.g. 'Mon 09:30', got {text!r}")
    names = [d.lower() for d in DAY_NAMES]
    day = parts[0][:3].lower()
    if day not in names:
        raise ValueError(f"unknown weekday {parts[0]!r}; one of {', '.join(DAY_NAMES)}")
    hours, minutes = 0, 0
    if len(parts) == 2:
        hh, _, mm = parts[1].partition(":")
        hours, minutes = int(hh), int(mm or 0)
        if not (0 <= hours < 24 and 0 <= minutes < 60):
            raise ValueError(f"bad time of day {parts[1]!r}")
    return names.index(day) * DAY + hours * HOUR + minutes * 60


def parse_span(text: str) -> float:
    """A duration like `90s`, `45m`, `8h`, `2d` or plain seconds, in seconds."""
    text = text.strip().lower()
    units = {"s": 1.0, "m": 60.0, "h": HOUR, "d": DAY, "w": WEEK}
    try:
        if text and text[-1] in units:
            value = float(text[:-1]) * units[text[-1]]
        else:
            value = float(text)
    except ValueError:
        raise ValueError(f"expected a duration like 90s, 45m, 8h or 2d, got {text!r}") from None
    if value <= 0:
        raise ValueError("a duration must be positive")
    return value
