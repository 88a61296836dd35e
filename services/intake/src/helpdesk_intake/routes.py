"""Intake's REST surface for the ticket resource: create, list, read, patch, history."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Header, Query, Request, Response

from helpdesk_events import eventstore
from helpdesk_events.tickets import Actor, Channel, Priority, Status, TicketType
from helpdesk_runtime.auth import Caller
from helpdesk_runtime.problems import Problem
from helpdesk_runtime.ratelimit import TOO_MANY_REQUESTS, rate_limited

from . import examples, handlers, queries, store
from . import access
from .actors import acting_user
from .commands import UNSET, Categorize, ChangePriority, Command, CreateTicket, UpdateTicket
from .docs import problems, success
from .endpoint import (
    CommandHeaders,
    command_headers,
    events_json,
    query_without_nul,
    run,
    run_command,
    settings_of,
    trace,
)
from .idempotency import IdempotencyKeyHeader, StoredResponse
from .json_response import FastJSONResponse
from .preconditions import etag
from .schemas import EventView, TicketCreate, TicketPage, TicketPatch, TicketView
from .store import state_document
from .tables import tickets

router = APIRouter(prefix="/v1", tags=["tickets"],
                   dependencies=[Depends(query_without_nul), Depends(access.own_ticket)])

_DESCRIPTIVE = ("subject", "description", "requester", "channel", "type", "affected_service",
                "language", "tags", "custom_fields")
_PRIORITY = ("priority", "impact", "urgency", "priority_reason")


@router.post(
    "/tickets", status_code=201, response_model=TicketView, summary="Create a ticket",
    description=(
        "Logs a ticket from any channel. Send `Idempotency-Key` to retry safely. The caller "
        "(bearer token) is the actor: a requester logs tickets only for themselves, an agent "
        "may log one for anybody (a phone call). `follow_up_of` links a follow-up to a closed "
        "ticket."),
    responses={
        **success(201, "Created; `Location` is the ticket's URL.", examples.TICKET,
                  Location="URL of the new ticket", ETag="Its version, for If-Match"),
        **problems(400, 401, 403, 413, 422), **TOO_MANY_REQUESTS,
    },
    dependencies=[access.PARTIES, rate_limited("create_ticket")],
)
async def create_ticket(
    body: TicketCreate,
    request: Request,
    principal: Caller,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Any:
    """Create a ticket (once per Idempotency-Key)."""
    access.check_create(principal, body.requester)
    actor = acting_user(principal)
    headers = CommandHeaders(None, idempotency_key, principal)
    ticket_id = uuid.uuid4()
    settings = settings_of(request)

    def build(number: str) -> CreateTicket:
        return CreateTicket(
            ticket_id=ticket_id, number=number, subject=body.subject, requester=body.requester,
            channel=body.channel, type=body.type, by=actor, description=body.description,
            category=body.category, priority=body.priority, impact=body.impact,
            urgency=body.urgency, affected_service=body.affected_service, language=body.language,
            tags=body.tags, custom_fields=body.custom_fields, follow_up_of=body.follow_up_of,
        )

    async def work(conn: store.Connection, now: datetime) -> StoredResponse:
        outcome = await handlers.create(conn, ticket_id, build, now=now, policy=settings.policy(),
                                        trace=trace(request))
        return StoredResponse(201, state_document(outcome.state), {
            "Location": f"/v1/tickets/{ticket_id}", "ETag": etag(outcome.state.version),
        })

    # Without a key a create is one statement on PostgreSQL (handlers.create).
    return await run(request, headers, body, work, actor=actor, single_statement=True)


@router.get(
    "/tickets", response_model=TicketPage, summary="List tickets",
    description=(
        "Filters combine with AND; repeat `status`, `priority`, `channel` or `type` for any of "
        "several values. Time ranges are [from, to) in UTC. Keyset pagination: pass "
        "`next_cursor` back as `cursor` with the same sort and order. A requester sees only "
        "their own tickets."),
    responses={**success(200, "One page of tickets.", examples.TICKET_PAGE), **problems(422)},
    dependencies=[access.PARTIES],
)
async def list_tickets(
    request: Request,
    principal: Caller,
    status: Annotated[list[Status] | None, Query()] = None,
    priority: Annotated[list[Priority] | None, Query()] = None,
    channel: Annotated[list[Channel] | None, Query()] = None,
    type: Annotated[list[TicketType] | None, Query()] = None,
    category: Annotated[str | None, Query(max_length=100)] = None,
    team: Annotated[str | None, Query(max_length=100)] = None,
    agent: Annotated[str | None, Query(max_length=100)] = None,
    tier: Annotated[int | None, Query(ge=1, le=3)] = None,
    requester: Annotated[str | None, Query(max_length=100, description="Requester id.")] = None,
    tag: Annotated[str | None, Query(max_length=50)] = None,
    q: Annotated[str | None, Query(max_length=200, description="Text in the subject.")] = None,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
    updated_from: datetime | None = None,
    updated_to: datetime | None = None,
    sort: queries.SortKey = queries.SortKey.CREATED_AT,
    order: queries.Order = queries.Order.DESC,
    limit: Annotated[int, Query(ge=1, le=queries.MAX_LIMIT)] = queries.DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=1000)] = None,
) -> Any:
    """One page of tickets matching the filters."""
    where = queries.TicketFilter(
        status=tuple(status or ()), priority=tuple(priority or ()), channel=tuple(channel or ()),
        type=tuple(type or ()), category=category, team=team, agent=agent, tier=tier,
        requester=access.requester_scope(principal) or requester, tag=tag, text=q,
        created_from=queries.utc_param("created_from", created_from),
        created_to=queries.utc_param("created_to", created_to),
        updated_from=queries.utc_param("updated_from", updated_from),
        updated_to=queries.utc_param("updated_to", updated_to),
    )
    async with request.app.state.runtime.reader.connect() as conn:
        page = await queries.list_tickets(conn, where, sort=sort, order=order, limit=limit,
                                          cursor=cursor)
    return FastJSONResponse({"items": page.documents, "next_cursor": page.next_cursor})


@router.get(
    "/tickets/{ticket_id}", response_model=TicketView, summary="A ticket's current state",
    responses={
        **success(200, "The ticket.", examples.TICKET, ETag="The version, for If-Match"),
        304: {"description": "Not modified (If-None-Match named the current version)."},
        **problems(404, 422),
    },
    dependencies=[access.PARTIES],
)
async def get_ticket(
    ticket_id: UUID,
    request: Request,
    if_none_match: Annotated[str | None, Header(alias="If-None-Match", max_length=1000)] = None,
) -> Any:
    """The ticket's current state, with its ETag."""
    async with request.app.state.runtime.reader.connect() as conn:
        row = (await conn.execute(
            sa.select(tickets.c.document, tickets.c.version).where(tickets.c.id == ticket_id)
        )).first()
    if row is None:
        raise Problem(404, "Not found", f"ticket {ticket_id} not found", ticket_id=str(ticket_id))
    tag = etag(row.version)
    if if_none_match is not None and tag in {t.strip() for t in if_none_match.split(",")}:
        return Response(status_code=304, headers={"ETag": tag})
    return FastJSONResponse(row.document, headers={"ETag": tag})


@router.patch(
    "/tickets/{ticket_id}", response_model=TicketView, summary="Change a ticket's fields",
    description=(
        "Descriptive fields, priority (or impact / urgency, which recompute it) and category, "
        "in one atomic change. Send `If-Match` with the ETag you read: a stale one is a 412."),
    responses={
        **success(200, "The ticket after the change.", examples.TICKET, ETag="The new version"),
        **problems(400, 404, 409, 412, 413, 422),
    },
    dependencies=[access.STAFF_ONLY],
)
async def patch_ticket(
    ticket_id: UUID,
    body: TicketPatch,
    request: Request,
    headers: Annotated[CommandHeaders, Depends(command_headers)],
) -> Any:
    """Change descriptive fields, priority and category in one step."""
    sent = body.model_fields_set

    def plan(actor: Actor) -> list[Command]:
        commands: list[Command] = []
        changes = {name: getattr(body, name) for name in _DESCRIPTIVE if name in sent}
        if changes:
            commands.append(UpdateTicket(ticket_id=ticket_id, by=actor, **{
                name: changes.get(name, UNSET) for name in _DESCRIPTIVE
            }))
        if sent & set(_PRIORITY):
            commands.append(ChangePriority(
                ticket_id=ticket_id, by=actor, priority=body.priority, impact=body.impact,
                urgency=body.urgency, reason=body.priority_reason,
            ))
        if "category" in sent:
            commands.append(Categorize(ticket_id=ticket_id, category=body.category, by=actor))
        return commands

    return await run_command(request, ticket_id, headers, body, plan, respond=_ticket_only)


@router.get(
    "/tickets/{ticket_id}/events", response_model=list[EventView],
    summary="A ticket's full history, oldest first",
    description=("Every event of the ticket's stream as CloudEvents, as published on Kafka. "
                 "Requesters do not see internal notes."),
    responses={**success(200, "The history.", [examples.EVENT, examples.STATUS_EVENT]),
               **problems(404, 422)},
    dependencies=[access.PARTIES],
)
async def ticket_events(ticket_id: UUID, request: Request, principal: Caller) -> Any:
    """The ticket's event stream, oldest first."""
    async with request.app.state.runtime.reader.connect() as conn:
        envelopes = await eventstore.read_stream(conn, ticket_id)
    if not envelopes:
        raise Problem(404, "Not found", f"ticket {ticket_id} not found", ticket_id=str(ticket_id))
    return FastJSONResponse(events_json(access.visible_events(principal, envelopes)))


def _ticket_only(outcome: handlers.Outcome) -> StoredResponse:
    """PATCH answers with the ticket itself (commands answer with ticket and events)."""
    return StoredResponse(200, state_document(outcome.state), {"ETag": etag(outcome.state.version)})
