"""Intake's REST surface for ticket commands: POST /v1/tickets/{id}/<command>.

Each command takes `If-Match` (412 when stale), `Idempotency-Key` and the caller's token,
and answers with the ticket after it and the events it caused.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID, uuid4

from fastapi import APIRouter, Depends, Request
from sqlalchemy.ext.asyncio import AsyncConnection

from helpdesk_events.tickets import Actor

from . import access, examples, handlers
from .commands import (
    AddComment,
    AssignTicket,
    ChangeStatus,
    CloseTicket,
    EscalateTicket,
    LogWork,
    MergeTicket,
    RecordChangeOutcome,
    ReopenTicket,
    ResolveTicket,
)
from .docs import problems, success
from .endpoint import (
    CommandHeaders,
    command_headers,
    events_json,
    query_without_nul,
    run,
    run_command,
    trace,
)
from .idempotency import StoredResponse
from .preconditions import etag
from .schemas import (
    Assignment,
    ChangeOutcome,
    CommandResult,
    CommentCreate,
    Escalation,
    MergeRequest,
    MergeResult,
    Reopen,
    Resolution,
    StatusChange,
    WorkLogCreate,
)
from .store import state_document

router = APIRouter(prefix="/v1/tickets/{ticket_id}", tags=["ticket commands"],
                   dependencies=[Depends(query_without_nul), Depends(access.own_ticket)])
Headers = Annotated[CommandHeaders, Depends(command_headers)]

_DONE = success(200, "The ticket after the command and the events it caused.",
                examples.COMMAND_RESULT, ETag="The new version")
_RESPONSES: dict[int | str, Any] = {**_DONE, **problems(400, 404, 409, 412, 413, 422)}


def _command(path: str, summary: str, description: str = "", *,
             who: Any = access.STAFF_ONLY) -> Any:
    """The route decorator of a command answering with a CommandResult (staff only by default)."""
    return router.post(path, response_model=CommandResult, summary=summary,
                       description=description, responses=_RESPONSES, dependencies=[who])


@_command("/comments", "Add a public reply or an internal note",
          "A staff reply on a new ticket opens it; a requester reply on a pending ticket "
          "moves it back to open. Requesters cannot write internal notes.", who=access.PARTIES)
async def add_comment(ticket_id: UUID, body: CommentCreate, request: Request,
                      headers: Headers) -> Any:
    """Add a comment."""
    comment_id = uuid4()
    return await run_command(request, ticket_id, headers, body, lambda actor: [AddComment(
        ticket_id=ticket_id, comment_id=comment_id, author=actor, body=body.body,
        public=body.public)])


@_command("/status", "Move between working statuses",
          "new, open, pending (waiting on the requester) and on_hold (waiting on a third "
          "party); resolve, reopen and close have their own endpoints. A 409 lists the "
          "allowed moves.")
async def change_status(ticket_id: UUID, body: StatusChange, request: Request,
                        headers: Headers) -> Any:
    """Change the working status."""
    return await run_command(request, ticket_id, headers, body, lambda actor: [ChangeStatus(
        ticket_id=ticket_id, to_status=body.to_status, by=actor, reason=body.reason)])


@_command("/assign", "Assign or transfer",
          "The first assignment (or an agent picked from the team queue) is an assignment, any "
          "later change of team or agent a transfer. Raising the tier is an escalation.")
async def assign(ticket_id: UUID, body: Assignment, request: Request, headers: Headers) -> Any:
    """Assign or transfer the ticket."""
    return await run_command(request, ticket_id, headers, body, lambda actor: [AssignTicket(
        ticket_id=ticket_id, team=body.team, agent=body.agent, tier=body.tier,
        reason=body.reason, by=actor)])


@_command("/escalate", "Escalate to a higher tier")
async def escalate(ticket_id: UUID, body: Escalation, request: Request, headers: Headers) -> Any:
    """Escalate the ticket."""
    return await run_command(request, ticket_id, headers, body, lambda actor: [EscalateTicket(
        ticket_id=ticket_id, to_tier=body.to_tier, reason=body.reason, by=actor,
        to_team=body.to_team, to_agent=body.to_agent)])


@_command("/resolve", "Resolve with a resolution code")
async def resolve(ticket_id: UUID, body: Resolution, request: Request, headers: Headers) -> Any:
    """Resolve the ticket."""
    return await run_command(request, ticket_id, headers, body, lambda actor: [ResolveTicket(
        ticket_id=ticket_id, resolution_code=body.resolution_code, by=actor,
        summary=body.summary)])


@_command("/reopen", "Reopen a resolved ticket",
          "Within the reopen window after the resolution (default 7 days). A closed ticket, or "
          "one past the window, answers 409 with `follow_up_of`: create a follow-up ticket "
          "with POST /v1/tickets and that `follow_up_of`.", who=access.PARTIES)
async def reopen(ticket_id: UUID, body: Reopen, request: Request, headers: Headers) -> Any:
    """Reopen the ticket."""
    return await run_command(request, ticket_id, headers, body, lambda actor: [ReopenTicket(
        ticket_id=ticket_id, reason=body.reason, by=actor)])


@_command("/close", "Close a resolved ticket",
          "Resolved tickets also close automatically after the configured delay (default "
          "3 days), as the system actor.", who=access.PARTIES)
async def close(ticket_id: UUID, request: Request, headers: Headers) -> Any:
    """Close the ticket."""
    return await run_command(request, ticket_id, headers, None, lambda actor: [CloseTicket(
        ticket_id=ticket_id, by=actor)])


@_command("/worklogs", "Log work time", "Talk, research or after-work seconds.")
async def log_work(ticket_id: UUID, body: WorkLogCreate, request: Request,
                   headers: Headers) -> Any:
    """Log work time."""
    def plan(actor: Actor) -> list[Any]:
        return [LogWork(ticket_id=ticket_id, agent=body.agent or actor.id, seconds=body.seconds,
                        kind=body.kind, by=actor, note=body.note)]

    return await run_command(request, ticket_id, headers, body, plan)


@_command("/change-outcome", "Record a change's implementation outcome",
          "Only for tickets of type change.")
async def change_outcome(ticket_id: UUID, body: ChangeOutcome, request: Request,
                         headers: Headers) -> Any:
    """Record a change's outcome."""
    return await run_command(request, ticket_id, headers, body, lambda actor: [
        RecordChangeOutcome(ticket_id=ticket_id, success=body.success, by=actor,
                            notes=body.notes)])


@router.post(
    "/merge", response_model=MergeResult, summary="Merge this ticket into another",
    description=(
        "Closes this ticket (reason merged) and records the link on both; both streams change "
        "in one transaction and this ticket's history stays readable. If-Match applies to "
        "this (the source) ticket."),
    responses={**success(200, "Both tickets after the merge.", examples.MERGE_RESULT),
               **problems(400, 404, 409, 412, 413, 422)},
    dependencies=[access.STAFF_ONLY],
)
async def merge(ticket_id: UUID, body: MergeRequest, request: Request, headers: Headers) -> Any:
    """Merge this ticket into another."""
    actor = headers.actor()

    async def work(conn: AsyncConnection, now: datetime) -> StoredResponse:
        command = MergeTicket(ticket_id=ticket_id, target_ticket_id=body.target_ticket_id,
                              by=actor)
        source, target = await handlers.merge(conn, command, now=now, if_match=headers.if_match,
                                              trace=trace(request))
        return StoredResponse(200, {
            "ticket": state_document(source.state),
            "target": state_document(target.state),
            "events": events_json(source.envelopes + target.envelopes),
        }, {"ETag": etag(source.state.version)})

    return await run(request, headers, body, work, actor=actor)
