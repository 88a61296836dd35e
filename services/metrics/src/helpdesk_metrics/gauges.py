"""Prometheus gauges `helpdesk_*` for the headline KPIs (no ticket ids in labels)."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta, timezone
from typing import Any

from prometheus_client import CollectorRegistry, Gauge

from helpdesk_runtime.collector import collector_paused

from .live import LiveFacts
from .reports import Query, Reader, kpi_report

#: KPI name -> (gauge name, help); rates are ratios in [0, 1], durations seconds.
HEADLINE: dict[str, tuple[str, str]] = {
    "ticket_volume": ("helpdesk_ticket_volume", "Tickets created in the gauge window"),
    "backlog": ("helpdesk_backlog_tickets", "Tickets not resolved now"),
    "high_priority_backlog": ("helpdesk_high_priority_backlog_tickets", "P1/P2 tickets not resolved now"),
    "first_response_time": ("helpdesk_first_response_time_seconds", "Mean first response time"),
    "resolution_time": ("helpdesk_resolution_time_seconds", "Mean time to resolution (MTTR)"),
    "first_contact_resolution": ("helpdesk_first_contact_resolution_ratio", "First contact resolution rate"),
    "escalation_rate": ("helpdesk_escalation_ratio", "Escalated tickets / tickets"),
    "reopen_rate": ("helpdesk_reopen_ratio", "Reopens / resolutions"),
    "sla_compliance": ("helpdesk_sla_compliance_ratio", "SLA targets met / ended"),
    "sla_breaches": ("helpdesk_sla_breaches", "SLA breaches in the gauge window"),
    "csat": ("helpdesk_csat_ratio", "Satisfied CSAT answers / answers"),
    "nps": ("helpdesk_nps", "Net promoter score"),
    "agent_utilization": ("helpdesk_agent_utilization_ratio", "Logged work / time online"),
}


#: A gauge refresh waits at least this many times as long as it took.
IDLE_FACTOR = 4


class KpiGauges:
    """The gauges, registered once on the app's registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.gauges = {name: Gauge(metric, text, registry=registry)
                       for name, (metric, text) in HEADLINE.items()}

    def update(self, report: list[dict[str, Any]]) -> None:
        """Set every headline gauge from a KPI report (NaN when the KPI has no value)."""
        for entry in report:
            gauge = self.gauges.get(entry["name"])
            if gauge is not None:
                gauge.set(float("nan") if entry["value"] is None else entry["value"])


def refresher(gauges: KpiGauges, default_calendar: Any, every: float, window_days: int,  # type: ignore[no-untyped-def]
              live: LiveFacts | None = None):
    """A background job recomputing the gauges over the last `window_days` every `every` s
    (or less often, when a refresh is slow); `live`: the facts the API's reports hold too."""

    async def refresh_kpi_gauges(runtime: Any) -> None:
        while True:
            started = time.monotonic()
            now = datetime.now(timezone.utc)
            query = Query(start=now - timedelta(days=window_days), end=now + timedelta(seconds=1))
            with collector_paused():
                async with runtime.reader.connect() as conn:
                    report = await kpi_report(conn, Reader(now, default_calendar, live=live), query,
                                              names=tuple(HEADLINE), trend=False)
            gauges.update(report)
            # A refresh shares the event loop with the API and the consumer: on a big desk it
            # takes seconds, so it holds at most 1 / (1 + IDLE_FACTOR) of the loop.
            await asyncio.sleep(max(every, IDLE_FACTOR * (time.monotonic() - started)))

    return refresh_kpi_gauges
