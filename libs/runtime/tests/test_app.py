"""The shared service shell: problem+json for every error, readiness, metrics, body limits."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import APIRouter, FastAPI
from pydantic import BaseModel, Field

from helpdesk_runtime.app import build_app
from helpdesk_runtime.auth import AuthSettings
from helpdesk_runtime.problems import Problem
from helpdesk_runtime.runtime import ServiceRuntime
from helpdesk_runtime.settings import KafkaSettings, ServiceSettings


class Thing(BaseModel):
    name: str = Field(max_length=5)
    count: int


router = APIRouter()


@router.post("/things")
async def create_thing(thing: Thing) -> Thing:
    return thing


@router.get("/teapot")
async def teapot() -> None:
    raise Problem(418, "I'm a teapot", "Short and stout.", errors=[{"field": "spout", "message": "x"}])


@router.get("/boom")
async def boom() -> None:
    raise RuntimeError("internal-secret-xyz")


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_app(database_url: str, bootstrap: str) -> FastAPI:
    settings = ServiceSettings(
        name="probe", port=0, database_url=database_url, log_json=False,
        kafka=KafkaSettings(bootstrap_servers=bootstrap), auth=AuthSettings(enabled=False),
    )
    return build_app(ServiceRuntime(settings), title="probe", routers=[router], max_body_bytes=1000)


@pytest.fixture
async def client(sqlite_url: str) -> AsyncIterator[httpx.AsyncClient]:
    app = make_app(sqlite_url, f"127.0.0.1:{_closed_port()}")
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://probe") as http:
            yield http


async def test_validation_errors_name_each_field(client: httpx.AsyncClient) -> None:
    response = await client.post("/things", json={"name": "too long", "count": "many"})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 422 and body["instance"] == "/things"
    assert {e["field"] for e in body["errors"]} == {"name", "count"}


async def test_malformed_json_is_a_400_problem(client: httpx.AsyncClient) -> None:
    response = await client.post("/things", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json()["title"] == "Malformed JSON"


async def test_oversized_body_is_refused_with_413(client: httpx.AsyncClient) -> None:
    response = await client.post("/things", content=b"x" * 2000, headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"


async def test_unknown_route_and_raised_problem_are_problem_json(client: httpx.AsyncClient) -> None:
    missing = await client.get("/nowhere")
    assert missing.status_code == 404 and missing.json()["title"] == "Not Found"
    teapot = await client.get("/teapot")
    assert teapot.status_code == 418
    assert teapot.json()["errors"] == [{"field": "spout", "message": "x"}]


async def test_unexpected_error_is_a_500_problem_without_internals(client: httpx.AsyncClient) -> None:
    response = await client.get("/boom")
    assert response.status_code == 500
    assert "internal-secret-xyz" not in response.text
    assert response.headers["content-type"] == "application/problem+json"


async def test_readyz_is_503_while_the_broker_is_unreachable(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).status_code == 200
    ready = await client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"] == {"database": True, "broker": False}


async def test_readyz_is_200_with_database_and_broker(sqlite_url: str, kafka_bootstrap: str) -> None:
    app = make_app(sqlite_url, kafka_bootstrap)
    async with LifespanManager(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://probe") as http:
            for _ in range(100):
                ready = await http.get("/readyz")
                if ready.status_code == 200:
                    break
                await asyncio.sleep(0.1)
            assert ready.status_code == 200, ready.text
            metrics = await http.get("/metrics")
            assert "helpdesk_up 1.0" in metrics.text
            assert "helpdesk_http_request_duration_seconds" in metrics.text
            assert "helpdesk_events_published_total 0.0" in metrics.text
