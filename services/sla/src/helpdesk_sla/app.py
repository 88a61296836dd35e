"""Composition root of the SLA service."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from helpdesk_events import topics
from helpdesk_runtime.app import build_app
from helpdesk_runtime.runtime import ServiceRuntime, Subscription

from . import handlers
from .config import SlaSettings

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: SlaSettings | None = None) -> FastAPI:
    """Build the sla app."""
    settings = settings or SlaSettings()
    runtime = ServiceRuntime(
        settings, migrations=MIGRATIONS, publishes=True,
        subscriptions=[Subscription([topics.TICKETS], handlers.handle)],
    )
    return build_app(runtime, title="Helpdesk sla", description="Durable breach timers on business-hours calendars.")
