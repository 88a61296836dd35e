"""The frozen business-hours calendar, its constructors and its JSON-friendly form."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from helpdesk_businesstime.errors import CalendarError
from helpdesk_businesstime.intervals import Interval, parse_interval
from helpdesk_businesstime.schedule import Schedule
from helpdesk_businesstime.validation import compile_calendar
from helpdesk_businesstime.zones import MICROS


@dataclass(frozen=True, kw_only=True)
class Calendar:
    """Weekly business hours in an IANA zone, minus explicit and public holidays.

    Constructing one validates it (raising `CalendarError`), so every `Calendar` is usable.
    `weekly_hours` is kept sorted by weekday and start so equal calendars compare equal.
    """

    time_zone: str
    weekly_hours: tuple[Interval, ...]
    holidays: frozenset[date] = frozenset()
    country: str | None = None
    subdivision: str | None = None
    name: str = ""
    _zone: ZoneInfo = field(init=False, repr=False, compare=False, hash=False)
    _schedule: Schedule = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        if isinstance(self.weekly_hours, (str, bytes)) or not isinstance(
            self.weekly_hours, Iterable
        ):
            raise CalendarError("weekly_hours", "expected a sequence of intervals")
        if isinstance(self.holidays, (str, bytes)) or not isinstance(self.holidays, Iterable):
            raise CalendarError("holidays", "expected a set of dates")
        # Materialise first: a generator would otherwise be consumed by validation.
        weekly_hours, holidays = tuple(self.weekly_hours), tuple(self.holidays)
        zone, schedule = compile_calendar(
            time_zone=self.time_zone,
            weekly_hours=weekly_hours,
            holidays=holidays,
            country=self.country,
            subdivision=self.subdivision,
            name=self.name,
        )
        ordered = tuple(sorted(weekly_hours, key=lambda i: (i.weekday, i.start_micros)))
        object.__setattr__(self, "weekly_hours", ordered)
        object.__setattr__(self, "holidays", frozenset(holidays))
        object.__setattr__(self, "_zone", zone)
        object.__setattr__(self, "_schedule", schedule)

    @classmethod
    def build(
        cls,
        *,
        time_zone: str,
        weekly_hours: Iterable[Interval | Mapping[str, Any] | tuple[Any, ...]],
        holidays: Iterable[date | str] = (),
        country: str | None = None,
        subdivision: str | None = None,
        name: str = "",
    ) -> "Calendar":
        """A validated calendar from loose input: times as `HH:MM`, holidays as ISO dates."""
        if isinstance(weekly_hours, (str, bytes, Mapping)) or not isinstance(
            weekly_hours, Iterable
        ):
            raise CalendarError("weekly_hours", "expected a list of intervals")
        if isinstance(holidays, (str, bytes, Mapping)) or not isinstance(holidays, Iterable):
            raise CalendarError("holidays", "expected a list of dates")
        intervals = tuple(
            parse_interval(item, f"weekly_hours[{index}]")
            for index, item in enumerate(weekly_hours)
        )
        dates = frozenset(
            _parse_date(item, f"holidays[{index}]") for index, item in enumerate(holidays)
        )
        return cls(
            time_zone=time_zone,
            weekly_hours=intervals,
            holidays=dates,
            country=country,
            subdivision=subdivision,
            name=name,
        )

    @classmethod
    def always_open(cls, *, name: str = "24x7", time_zone: str = "UTC") -> "Calendar":
        """A 24x7 calendar: business time is plain elapsed time (arithmetic takes a fast path)."""
        return cls(
            time_zone=time_zone,
            weekly_hours=tuple(Interval(day, time(0), time(0)) for day in range(7)),
            name=name,
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Calendar":
        """The calendar of a `to_dict` form (unknown keys are ignored, for newer producers)."""
        if not isinstance(data, Mapping):
            raise CalendarError("calendar", "expected an object")
        for key in ("time_zone", "weekly_hours"):
            if key not in data:
                raise CalendarError(key, "required")
        return cls.build(
            time_zone=data["time_zone"],
            weekly_hours=data["weekly_hours"],
            holidays=data.get("holidays") or (),
            country=data.get("country"),
            subdivision=data.get("subdivision"),
            name=data.get("name") or "",
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly form: times `HH:MM` (a same-day end at midnight: `24:00`), ISO dates."""
        return {
            "name": self.name,
            "time_zone": self.time_zone,
            "weekly_hours": [interval.to_dict() for interval in self.weekly_hours],
            "holidays": sorted(day.isoformat() for day in self.holidays),
            "country": self.country,
            "subdivision": self.subdivision,
        }

    def validate(self) -> None:
        """Re-run the checks (construction already ran them); raises `CalendarError`."""
        compile_calendar(
            time_zone=self.time_zone,
            weekly_hours=self.weekly_hours,
            holidays=self.holidays,
            country=self.country,
            subdivision=self.subdivision,
            name=self.name,
        )

    @property
    def zone(self) -> ZoneInfo:
        """The calendar's time zone."""
        return self._zone

    @property
    def is_always_open(self) -> bool:
        """Whether every moment is business time (all week covered, no holidays)."""
        return self._schedule.always_open

    @property
    def weekly_seconds(self) -> float:
        """Business seconds in a week without holidays or clock changes."""
        return self._schedule.week_total / MICROS


def _parse_date(value: object, field: str) -> date:
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise CalendarError(field, f"expected an ISO date, got {value!r}") from None
    if not isinstance(value, date) or isinstance(value, datetime):
        raise CalendarError(field, f"expected a date, got {value!r}")
    return value
