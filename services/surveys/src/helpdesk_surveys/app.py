"""Composition root of the surveys service."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone, UTC
from pathlib import Path

from fastapi import FastAPI

from helpdesk_events import topics
from helpdesk_runtime.app import build_app
from helpdesk_runtime.ratelimit import RateLimit, install_rate_limits
from helpdesk_runtime.runtime import ServiceRuntime, Subscription

from . import jobs, routes_form, routes_policies, routes_surveys
from .config import SurveysSettings
from .handlers import make_handler

MIGRATIONS = Path(__file__).parent / "migrations"


def utc_now() -> datetime:
    """The wall clock, in UTC."""
    return datetime.now(UTC)


def create_app(
    settings: SurveysSettings | None = None,
    *,
    clock: Callable[[], datetime] = utc_now,
    run_jobs: bool = True,
) -> FastAPI:
    """Build the surveys app; tests may pass a `clock` and drive the jobs (`run_jobs=False`)."""
    settings = settings or SurveysSettings()
    runtime = ServiceRuntime(
        settings,
        migrations=MIGRATIONS,
        publishes=True,
        subscriptions=[Subscription([topics.TICKETS], make_handler(settings, clock))],
        background=[jobs.scheduler(clock), jobs.webhook_sender(clock)] if run_jobs else [],
    )
    app = build_app(
        runtime,
        title="Helpdesk surveys",
        description="CSAT, CES, NPS and agent-satisfaction surveys with single-use signed links.",
        routers=[routes_policies.router, routes_surveys.router],
        public_routers=[routes_surveys.public_router, routes_form.router],
    )
    app.state.clock = clock
    install_rate_limits(app, RateLimit("survey_link", settings.link_rate_per_minute))
    return app
