"""Composition root of the intake service."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from helpdesk_events import topics
from helpdesk_runtime.app import build_app
from helpdesk_runtime.ratelimit import RateLimit, install_rate_limits
from helpdesk_runtime.runtime import ServiceRuntime, Subscription

from . import consumers, docs, errors_http, routes, routes_admin, routes_commands
from .autoclose import auto_close_job
from .config import IntakeSettings

MIGRATIONS = Path(__file__).parent / "migrations"

DESCRIPTION = """Tickets from every channel, kept as append-only event streams.

* Errors are RFC 9457 problem+json; `errors` names each invalid field.
* `ETag` is the ticket's version; send it back in `If-Match` on PATCH and commands (412 if stale).
* `Idempotency-Key` makes POSTs safe to retry (same key and body: the first response again).
* Size limits: subject 200 chars, description and comments 20 000, tags 20 x 50,
  custom fields 50 (keys 64, text values 1 000), reasons 2 000, ids 100, bodies 1 MiB;
  pages of at most 200 tickets.
* Send `Authorization: Bearer <JWT>`; the token's subject and role are the acting user.
  Requesters see and act on their own tickets only and never see internal notes.
"""


def create_app(settings: IntakeSettings | None = None) -> FastAPI:
    """Build the intake app: the ticket REST API; applies routing decisions to tickets."""
    settings = settings or IntakeSettings()
    runtime = ServiceRuntime(
        settings, migrations=MIGRATIONS, publishes=True,
        subscriptions=[Subscription([topics.ROUTING], consumers.make_handler(settings.policy()))],
        background=[auto_close_job],
    )
    app = build_app(
        runtime, title="Helpdesk intake", description=DESCRIPTION,
        routers=[routes.router, routes_commands.router, routes_admin.router],
        max_body_bytes=settings.max_body_bytes,
    )
    install_rate_limits(app, RateLimit("create_ticket", settings.create_rate_per_minute))
    errors_http.install(app)
    docs.install(app)
    return app
