"""Domain errors to problem+json: each refusal gets its status code and the facts a client needs."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from helpdesk_events.eventstore import ConcurrencyConflict
from helpdesk_runtime.problems import Problem, field_error, problem_response

from .errors import (
    IllegalTransition,
    InvalidCommand,
    ReopenWindowExpired,
    TicketAlreadyClosed,
    TicketNotFound,
)
from .handlers import VersionMismatch


def to_problem(exc: Exception) -> Problem:
    """The problem a domain or concurrency error stands for."""
    if isinstance(exc, TicketNotFound):
        return Problem(404, "Not found", str(exc))
    if isinstance(exc, IllegalTransition):
        return Problem(409, "Illegal transition", str(exc), current=exc.current.value,
                       requested=exc.requested.value, allowed=[s.value for s in exc.allowed])
    if isinstance(exc, TicketAlreadyClosed):
        return Problem(409, "Ticket closed", str(exc), follow_up_of=str(exc.ticket_id))
    if isinstance(exc, ReopenWindowExpired):
        return Problem(409, "Reopen window expired", str(exc), deadline=exc.deadline.isoformat(),
                       follow_up_of=str(exc.ticket_id))
    if isinstance(exc, InvalidCommand):
        return Problem(422, "Validation failed", str(exc), errors=[field_error(exc.field, exc.message)])
    if isinstance(exc, VersionMismatch):
        return Problem(412, "Precondition failed", str(exc), current_version=exc.actual)
    if isinstance(exc, ConcurrencyConflict):
        return Problem(409, "Concurrent update", "The ticket changed meanwhile; reload and retry.")
    raise exc


def install(app: FastAPI) -> None:
    """Register the handlers on the app."""

    async def handler(request: Request, exc: Exception) -> JSONResponse:
        return problem_response(to_problem(exc), request)

    for error in (TicketNotFound, IllegalTransition, TicketAlreadyClosed, ReopenWindowExpired,
                  InvalidCommand, VersionMismatch, ConcurrencyConflict):
        app.add_exception_handler(error, handler)
