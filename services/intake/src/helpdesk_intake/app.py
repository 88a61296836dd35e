"""Composition root of the intake service."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from helpdesk_events import topics
from helpdesk_runtime.app import build_app
from helpdesk_runtime.runtime import ServiceRuntime, Subscription

from . import consumers, errors_http, routes
from .config import IntakeSettings

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: IntakeSettings | None = None) -> FastAPI:
    """Build the intake app: the ticket REST API; applies routing decisions to tickets."""
    settings = settings or IntakeSettings()
    runtime = ServiceRuntime(
        settings, migrations=MIGRATIONS, publishes=True,
        subscriptions=[Subscription([topics.ROUTING], consumers.handle)],
    )
    app = build_app(runtime, title="Helpdesk intake", routers=[routes.router],
                    description="Tickets from every channel, kept as append-only event streams.")
    errors_http.install(app)
    return app
