"""Composition root of the surveys service."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from helpdesk_events import topics
from helpdesk_runtime.app import build_app
from helpdesk_runtime.runtime import ServiceRuntime, Subscription

from . import handlers
from .config import SurveysSettings

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: SurveysSettings | None = None) -> FastAPI:
    """Build the surveys app."""
    settings = settings or SurveysSettings()
    runtime = ServiceRuntime(
        settings, migrations=MIGRATIONS, publishes=True,
        subscriptions=[Subscription([topics.TICKETS, topics.ROUTING], handlers.handle)],
    )
    return build_app(runtime, title="Helpdesk surveys", description="CSAT, CES and NPS surveys after resolution.")
