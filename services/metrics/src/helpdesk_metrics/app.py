"""Composition root of the metrics service."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from helpdesk_events import topics
from helpdesk_runtime.app import build_app
from helpdesk_runtime.runtime import ServiceRuntime, Subscription

from . import handlers, routes
from .config import MetricsSettings

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: MetricsSettings | None = None) -> FastAPI:
    """Build the metrics app: consumes every topic, serves KPIs."""
    settings = settings or MetricsSettings()
    runtime = ServiceRuntime(
        settings, migrations=MIGRATIONS,
        subscriptions=[Subscription(topics.ALL, handlers.handle)],
    )
    return build_app(runtime, title="Helpdesk metrics", routers=[routes.router],
                     description="Live KPI projections built from the event stream.")
