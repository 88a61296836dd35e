"""Settings of the metrics service (environment variables prefixed `METRICS_`)."""

from __future__ import annotations

from typing import Any

from pydantic_settings import SettingsConfigDict

from helpdesk_businesstime import Calendar
from helpdesk_runtime.settings import ServiceSettings


class MetricsSettings(ServiceSettings):
    """`METRICS_DATABASE_URL`, `METRICS_PORT`, ...; Kafka comes from `KAFKA_*`."""

    model_config = SettingsConfigDict(env_prefix="METRICS_", extra="ignore")

    name: str = "metrics"
    port: int = 8004
    #: Business-hours calendar for `hours=business` when a ticket has no SLA calendar
    #: (the `Calendar.to_dict` form); None: 24x7 in UTC.
    default_calendar: dict[str, Any] | None = None
    #: Seconds between refreshes of the Prometheus KPI gauges (0: off).
    gauge_refresh_seconds: float = 15.0
    #: Window of the Prometheus KPI gauges, in days, ending now.
    gauge_window_days: int = 30
    #: How far back (days) a window may start and still be served from the facts metrics
    #: holds in process (live.py) instead of read per query; 0: every query reads its rows.
    #: Memory, measured 2026-12-04 at a million tickets (148k held, the tickets of these days
    #: and the open ones): 92 MiB of facts, and 186 MiB of steps once a 30-day series refolded.
    live_days: float = 35.0

    def calendar(self) -> Calendar:
        """The configured default calendar."""
        if self.default_calendar is None:
            return Calendar.always_open()
        return Calendar.from_dict(self.default_calendar)
