"""Fixtures: an intake app on a real database (SQLite and PostgreSQL), driven in-process over ASGI."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager

from helpdesk_intake.app import create_app
from helpdesk_intake.config import IntakeSettings
from helpdesk.testing.auth import bearer, enabled_auth
from helpdesk_runtime.settings import KafkaSettings

from .support import NO_BROKER, Intake, MakeIntake


@pytest.fixture
def make_intake(db_url: str) -> MakeIntake:
    """`async with make_intake(**settings) as intake:` an app on `db_url` (no broker by default).

    Auth is on (the test secret); the client sends an agent token for `agent-7` unless a
    request sets its own Authorization (see `helpdesk.testing.auth.bearer`).
    """

    @asynccontextmanager
    async def make(*, kafka: str = NO_BROKER, **settings: Any) -> AsyncIterator[Intake]:
        settings.setdefault("log_level", "WARNING")
        settings.setdefault("log_json", False)
        settings.setdefault("auth", enabled_auth())
        app = create_app(IntakeSettings(
            database_url=db_url, kafka=KafkaSettings(bootstrap_servers=kafka), **settings
        ))
        async with LifespanManager(app, startup_timeout=60):
            transport = httpx.ASGITransport(app)
            async with httpx.AsyncClient(transport=transport, base_url="http://intake",
                                         headers=bearer("agent", "agent-7")) as http:
                yield Intake(app, http)

    return make


@pytest.fixture
async def intake(make_intake: MakeIntake) -> AsyncIterator[Intake]:
    """An intake app with default settings on SQLite and on PostgreSQL."""
    async with make_intake() as running:
        yield running
