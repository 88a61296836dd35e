"""Domain errors to problem+json: each refusal gets its status code and the facts a client needs."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from helpdesk_events.eventstore import ConcurrencyConflict
from helpdesk_runtime.problems import Problem, field_error, problem_response

from .errors import (
    DomainError,
    IllegalTransition,
    InvalidCommand,
    NotAllowedInStatus,
    ReopenWindowExpired,
    TicketAlreadyClosed,
    TicketNotFound,
)
from .handlers import VersionMismatch


def to_problem(exc: Exception) -> Problem:
    """The problem a domain or concurrency error stands for."""
    if isinstance(exc, TicketNotFound):
        return Problem(404, "Not found", str(exc), ticket_id=str(exc.ticket_id))
    if isinstance(exc, IllegalTransition):
        return Problem(
            409, "Illegal transition", str(exc), current=exc.current.value,
            requested=exc.requested.value, allowed=[s.value for s in exc.allowed],
            errors=[field_error("status", str(exc), "illegal_transition")],
        )
    if isinstance(exc, TicketAlreadyClosed):
        return Problem(
            409, "Ticket closed", str(exc), follow_up_of=str(exc.ticket_id),
            errors=[field_error("status", "the ticket is closed; create a follow-up ticket",
                                "ticket_closed")],
        )
    if isinstance(exc, ReopenWindowExpired):
        return Problem(
            409, "Reopen window expired", str(exc), deadline=exc.deadline.isoformat(),
            follow_up_of=str(exc.ticket_id),
            errors=[field_error("status", "too late to reopen; create a follow-up ticket",
                                "reopen_window_expired")],
        )
    # Before InvalidCommand, which it extends: the status, not the input, is what is wrong.
    if isinstance(exc, NotAllowedInStatus):
        return Problem(409, "Not allowed in this status", str(exc), current=exc.status.value,
                       errors=[field_error(exc.field, exc.message, "not_allowed_in_status")])
    if isinstance(exc, InvalidCommand):
        return Problem(422, "Validation failed", str(exc),
                       errors=[field_error(exc.field, exc.message)])
    if isinstance(exc, VersionMismatch):
        return Problem(412, "Precondition failed", str(exc), current_version=exc.actual,
                       headers={"ETag": f'"{exc.actual}"'},
                       errors=[field_error("header.If-Match", str(exc), "stale_version")])
    if isinstance(exc, ConcurrencyConflict):
        return Problem(409, "Concurrent update", "The ticket changed meanwhile; reload and retry.",
                       current_version=exc.actual)
    raise exc


def install(app: FastAPI) -> None:
    """Register the handlers on the app."""

    async def handler(request: Request, exc: Exception) -> JSONResponse:
        return problem_response(to_problem(exc), request)

    for error in (DomainError, VersionMismatch, ConcurrencyConflict):
        app.add_exception_handler(error, handler)
