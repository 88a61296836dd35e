"""Composition root of the metrics service."""

from __future__ import annotations

import asyncio
from pathlib import Path

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from helpdesk_events import topics
from helpdesk_runtime.app import build_app
from helpdesk_runtime.runtime import ServiceRuntime, Subscription

from . import handlers, routes
from .config import MetricsSettings
from .dashboard import routes as dashboard
from .gauges import KpiGauges, refresher
from .live import LiveFacts
from .settled import SettledResults

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: MetricsSettings | None = None) -> FastAPI:
    """Build the metrics app: consumes every topic, serves KPIs, exports headline gauges."""
    settings = settings or MetricsSettings()
    calendar = settings.calendar()
    registry = CollectorRegistry()
    gauges = KpiGauges(registry)
    live = LiveFacts(settings.live_days)
    background = []
    if settings.gauge_refresh_seconds > 0:
        background.append(refresher(gauges, calendar, settings.gauge_refresh_seconds,
                                    settings.gauge_window_days, live))
    runtime = ServiceRuntime(
        settings, migrations=MIGRATIONS,
        subscriptions=[Subscription(topics.ALL, handlers.handle)],
        background=background,
    )
    # The dashboard page and its assets are public; the API calls it makes carry the token.
    app = build_app(runtime, title="Helpdesk metrics", routers=[routes.router],
                    public_routers=[dashboard.router], registry=registry,
                    description="Live KPI projections built from the event stream.")
    app.state.default_calendar = calendar
    app.state.kpi_gauges = gauges
    app.state.settled_results = SettledResults()
    app.state.live_facts = live
    app.state.rebuild_lock = asyncio.Lock()
    return app
