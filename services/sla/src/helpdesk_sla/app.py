"""Composition root of the SLA service."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from helpdesk_events import topics
from helpdesk_runtime.app import build_app
from helpdesk_runtime.runtime import ServiceRuntime, Subscription

from . import routes_config, routes_views
from .config import SlaSettings
from .handlers import make_handler
from .scheduler import Scheduler

MIGRATIONS = Path(__file__).parent / "migrations"

DESCRIPTION = """Durable SLA clocks on business-hours calendars.

Without configuration every ticket still has an SLA: the built-in calendar `24x7` (UTC, always
open) and one default policy per priority, evaluated after the configured policies (targets in
seconds: P1 900 / 1800 / 14400, P2 3600 / 7200 / 28800, P3 14400 / 28800 / 259200,
P4 28800 / 86400 / 432000 for first response / next response / resolution; warning at 75 %;
P1 and P2 escalate on breach).
"""


def create_app(settings: SlaSettings | None = None) -> FastAPI:
    """Build the sla app: consumes ticket events, fires timers, serves calendars and policies."""
    settings = settings or SlaSettings()
    scheduler = Scheduler(
        batch_size=settings.timer_batch_size,
        max_sleep=settings.scheduler_max_sleep,
        claimers=settings.timer_claimers,
    )
    runtime = ServiceRuntime(
        settings,
        migrations=MIGRATIONS,
        publishes=True,
        subscriptions=[Subscription([topics.TICKETS], make_handler(scheduler))],
        background=[scheduler.run],
    )
    app = build_app(
        runtime,
        title="Helpdesk sla",
        description=DESCRIPTION,
        routers=[routes_config.router, routes_views.router],
    )
    app.state.scheduler = scheduler
    return app
