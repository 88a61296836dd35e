"""The one error an invalid calendar definition raises."""


class CalendarError(ValueError):
    """An invalid calendar; `field` names the offending input (e.g. `weekly_hours[2].end`)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
