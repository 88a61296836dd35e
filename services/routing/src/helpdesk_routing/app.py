"""Composition root of the routing service."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from helpdesk_events import topics
from helpdesk_runtime.app import build_app
from helpdesk_runtime.runtime import ServiceRuntime, Subscription

from . import handlers
from .config import RoutingSettings

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: RoutingSettings | None = None) -> FastAPI:
    """Build the routing app."""
    settings = settings or RoutingSettings()
    runtime = ServiceRuntime(
        settings, migrations=MIGRATIONS, publishes=True,
        subscriptions=[Subscription([topics.TICKETS, topics.SLA], handlers.handle)],
    )
    return build_app(runtime, title="Helpdesk routing", description="Assigns tier, team and agent; escalates and transfers.")
