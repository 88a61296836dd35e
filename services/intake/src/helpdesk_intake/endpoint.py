"""What every ticket command endpoint does: headers in, one transaction, the ticket out."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from fastapi import Request
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncConnection

from helpdesk_events.codec import envelope_to_dict
from helpdesk_events.envelope import Envelope
from helpdesk_events.tickets import Actor
from helpdesk_runtime.auth import Caller, Principal
from helpdesk_runtime.problems import Problem, field_error

from . import handlers
from .actors import acting_user
from .config import IntakeSettings
from .handlers import Outcome, Plan, Trace
from .idempotency import IdempotencyKeyHeader, StoredResponse, fingerprint, run_once
from .json_response import FastJSONResponse
from .preconditions import IfMatchHeader, etag, expected_version
from .sanitize import check_storable
from .store import Connection, state_document

MAX_CORRELATION_ID = 200


@dataclass(frozen=True)
class CommandHeaders:
    """The request headers a command endpoint reads."""

    if_match: int | None
    idempotency_key: str | None
    principal: Principal

    def actor(self) -> Actor:
        """The acting user: the token's subject in its strongest role."""
        return acting_user(self.principal)


async def command_headers(
    if_match: IfMatchHeader = None,
    idempotency_key: IdempotencyKeyHeader = None,
    *,
    principal: Caller,
) -> CommandHeaders:
    """Dependency: the headers of a ticket command (If-Match already parsed) and the caller."""
    return CommandHeaders(expected_version(if_match), idempotency_key, principal)


async def query_without_nul(request: Request) -> None:
    """Dependency: refuse NUL characters in the query string (PostgreSQL text cannot hold them)."""
    for name, value in request.query_params.multi_items():
        if "\x00" in value or "\x00" in name:
            raise Problem(422, "Validation failed", f"query {name!r} contains a NUL character",
                          errors=[field_error(f"query.{name}", "must not contain NUL characters")])


def utcnow() -> datetime:
    """The current time in UTC (the time every event of a request carries)."""
    return datetime.now(timezone.utc)


def trace(request: Request) -> Trace:
    """Correlation from the `X-Correlation-Id` header, if any."""
    correlation = request.headers.get("x-correlation-id")
    return Trace(correlation_id=correlation[:MAX_CORRELATION_ID] if correlation else None)


def settings_of(request: Request) -> IntakeSettings:
    """The service settings."""
    return request.app.state.settings  # type: ignore[no-any-return]


def checked(body: BaseModel | None) -> None:
    """422 unless the body can be stored."""
    if body is not None:
        check_storable(body.model_dump(mode="python"))


def events_json(envelopes: list[Envelope]) -> list[dict[str, Any]]:
    """Envelopes as the API shows them."""
    return [envelope_to_dict(envelope) for envelope in envelopes]


def ticket_response(outcome: Outcome, status_code: int = 200) -> StoredResponse:
    """The ticket and the events of a command."""
    body = {"ticket": state_document(outcome.state), "events": events_json(outcome.envelopes)}
    return StoredResponse(status_code, body, {"ETag": etag(outcome.state.version)})


async def run(
    request: Request,
    headers: CommandHeaders,
    body: BaseModel | None,
    work: Callable[[Connection, datetime], Awaitable[StoredResponse]],
    *,
    actor: Actor | None = None,
    single_statement: bool = False,
) -> FastJSONResponse:
    """Run `work` once per Idempotency-Key in one write transaction; answer its response.

    `single_statement`: `work` writes in one statement or raises NeedsTransaction (see
    `idempotency.run_once`).
    """
    checked(body)
    acting = actor or headers.actor()
    now = utcnow()

    def request_hash() -> str:
        data = body.model_dump(mode="json", exclude_unset=True) if body is not None else None
        return fingerprint(request.method, request.url.path, acting.model_dump(mode="json"), data)

    async def in_transaction(conn: Connection) -> StoredResponse:
        return await work(conn, now)

    return await run_once(request.app.state.runtime, headers.idempotency_key, request_hash,
                          in_transaction, now=now, single_statement=single_statement)


async def run_command(
    request: Request,
    ticket_id: Any,
    headers: CommandHeaders,
    body: BaseModel | None,
    plan: Callable[[Actor], Plan],
    *,
    respond: Callable[[Outcome], StoredResponse] = ticket_response,
) -> FastJSONResponse:
    """Run the commands `plan(actor)` gives against one ticket and answer with the result."""
    actor = headers.actor()
    settings = settings_of(request)

    async def work(conn: AsyncConnection, now: datetime) -> StoredResponse:
        outcome = await handlers.execute(
            conn, ticket_id, plan(actor), now=now, policy=settings.policy(),
            if_match=headers.if_match, trace=trace(request),
        )
        return respond(outcome)

    return await run(request, headers, body, work, actor=actor)
