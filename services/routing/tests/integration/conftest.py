"""A routing app on a fresh database (SQLite and PostgreSQL), driven in-process."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from helpdesk.testing.auth import NO_AUTH
from helpdesk_runtime.settings import KafkaSettings
from helpdesk_routing.app import create_app
from helpdesk_routing.config import RoutingSettings


@pytest.fixture
async def app(db_url: str) -> AsyncIterator[FastAPI]:
    """Routing on `db_url` with no reachable broker: HTTP and handlers work, the outbox waits."""
    settings = RoutingSettings(auth=NO_AUTH, database_url=db_url, log_json=False,
                               kafka=KafkaSettings(bootstrap_servers="127.0.0.1:9"))
    application = create_app(settings)
    async with LifespanManager(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as c:
        yield c
