"""The FastAPI app every service is built on: health, readiness, Prometheus, problem+json."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.exc import DBAPIError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .auth import Role, TokenVerifier, authenticate, require
from .db import is_unavailable
from .logs import configure_logging
from .openapi import document_problems
from .problems import Problem, install_problem_handlers, problem_response
from .republish import router as republish_router
from .runtime import ServiceRuntime


class RequestMetrics:
    """Pure ASGI middleware: request count and latency by route template (no ids in labels)."""

    def __init__(self, app: ASGIApp, registry: CollectorRegistry) -> None:
        self.app = app
        self.latency = Histogram(
            "helpdesk_http_request_duration_seconds", "HTTP request latency", ["method", "route", "status"],
            registry=registry, buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            self.latency.labels(scope["method"], template, str(status)).observe(time.perf_counter() - started)


class RuntimeCollector(Collector):
    """Delivery counters read from the runtime at scrape time."""

    def __init__(self, runtime: ServiceRuntime) -> None:
        self.runtime = runtime

    def collect(self) -> Iterator[Metric]:
        counters = self.runtime.counters()
        for name, help_text in (
            ("handled", "Events handled by this service's consumers"),
            ("dead_lettered", "Records sent to a dead-letter topic"),
            ("published", "Outbox rows published to the broker"),
        ):
            family = CounterMetricFamily(f"helpdesk_events_{name}", help_text)
            family.add_metric([], counters[name])
            yield family


class BodySizeLimit:
    """Refuse request bodies over a limit with 413 before reading them into memory."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                await self._too_large(scope, receive, send)
                return
        # Without Content-Length (chunked) the limit trips while the app reads the body. FastAPI
        # turns any error while parsing a body into a 400, so the 413 is sent from here and
        # whatever the app answers after that is dropped.
        received = 0
        refused = started = False

        async def limited_receive() -> Message:
            nonlocal received, refused
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    if not started and not refused:
                        refused = True
                        await self._too_large(scope, receive, send)
                    raise Problem(413, "Payload too large", f"Request bodies are limited to {self.max_bytes} bytes.")
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if refused:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            if not refused:
                raise

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem_response(
            Problem(413, "Payload too large", f"Request bodies are limited to {self.max_bytes} bytes.")
        )
        await response(scope, receive, send)


def _answer_503_while_database_refuses(app: FastAPI) -> None:
    """Map "database shutting down / starting up" (a generic DBAPIError from asyncpg) to 503 too."""
    fallback = app.exception_handlers[DBAPIError]

    async def on_database_error(request: Request, exc: Exception) -> Response:
        if is_unavailable(exc):
            problem = Problem(503, "Service unavailable", "The database is unreachable; retry shortly.",
                              headers={"Retry-After": "2"})
            return problem_response(problem, request)
        return await fallback(request, exc)

    app.add_exception_handler(DBAPIError, on_database_error)


def build_app(
    runtime: ServiceRuntime,
    *,
    title: str,
    description: str = "",
    routers: Sequence[APIRouter] = (),
    public_routers: Sequence[APIRouter] = (),
    max_body_bytes: int = 1_048_576,
    registry: CollectorRegistry | None = None,
) -> FastAPI:
    """Compose a service: lifespan starts/stops the runtime; common endpoints are added.

    Every route of `routers` needs a valid bearer token (their own dependencies add the role
    rules); `public_routers` and health/readiness/API description stay open. A publishing
    runtime also gets `POST /v1/admin/republish` (admin only; helpdesk_runtime.republish). Raises
    ValueError when auth is enabled without a usable secret or key: the service refuses to start.
    """
    settings = runtime.settings
    verifier = TokenVerifier(settings.auth) if settings.auth.enabled else None
    registry = registry or CollectorRegistry()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(settings.name, settings.log_level, settings.log_json)
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    app = FastAPI(title=title, description=description, version="0.1.0", lifespan=lifespan)
    app.state.runtime = runtime
    app.state.settings = settings
    app.state.registry = registry
    app.state.token_verifier = verifier
    install_problem_handlers(app)
    _answer_503_while_database_refuses(app)

    up = Gauge("helpdesk_up", "1 while the service runs", registry=registry)
    up.set(1)
    registry.register(RuntimeCollector(runtime))

    @app.get("/healthz", tags=["ops"], summary="Liveness: the process answers")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": settings.name}

    @app.get("/readyz", tags=["ops"], summary="Readiness: database and broker reachable",
             responses={503: {"description": "Database or broker unreachable"}})
    async def readyz() -> Response:
        checks = {
            "database": await runtime.database_ready(),
            "broker": await runtime.broker_ready(),
        }
        if all(checks.values()):
            return JSONResponse({"status": "ready", "service": settings.name, "checks": checks})
        problem = Problem(503, "Not ready", "Some dependencies are unreachable.", checks=checks,
                          headers={"Retry-After": "1"})
        return problem_response(problem)

    # Counters reveal traffic and error rates: scrapers (integrator) and supervisors only.
    @app.get("/metrics", tags=["ops"], summary="Prometheus metrics", response_class=Response,
             dependencies=[require(Role.SUPERVISOR, Role.INTEGRATOR)])
    async def metrics(request: Request) -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    for router in routers:
        app.include_router(router, dependencies=[Depends(authenticate)])
    if runtime.publishes:
        # Every publisher answers it; those without a published log (intake) with 409.
        app.include_router(republish_router, dependencies=[Depends(authenticate)])
    for router in public_routers:
        app.include_router(router)

    app.add_middleware(BodySizeLimit, max_bytes=max_body_bytes)
    app.add_middleware(RequestMetrics, registry=registry)
    document_problems(app)
    return app
