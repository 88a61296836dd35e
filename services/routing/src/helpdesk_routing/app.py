"""Composition root of the routing service."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from helpdesk_events import topics
from helpdesk_runtime.app import build_app
from helpdesk_runtime.runtime import ServiceRuntime, Subscription

from . import handlers
from .config import RoutingSettings
from .routes import router

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: RoutingSettings | None = None) -> FastAPI:
    """Build the routing app: registry and rules over REST, decisions from ticket and SLA events."""
    settings = settings or RoutingSettings()
    runtime = ServiceRuntime(
        settings, migrations=MIGRATIONS, publishes=True,
        subscriptions=[Subscription([topics.TICKETS, topics.SLA], handlers.handle)],
    )
    return build_app(
        runtime, title="Helpdesk routing",
        description="Assigns tier, team and agent by rules, skills and capacity; escalates and transfers.",
        routers=[router],
    )
