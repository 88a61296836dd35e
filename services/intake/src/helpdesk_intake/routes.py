"""Intake's REST surface for tickets."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from helpdesk_events import eventstore
from helpdesk_events.codec import envelope_to_dict
from helpdesk_events.tickets import Actor, ActorRole
from helpdesk_runtime.problems import Problem

from . import handlers
from .commands import CreateTicket
from .schemas import EventView, TicketCreate, TicketView
from .tables import tickets

router = APIRouter(prefix="/v1", tags=["tickets"])


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _etag(version: int) -> str:
    return f'"{version}"'


@router.post("/tickets", status_code=201, response_model=TicketView, summary="Create a ticket")
async def create_ticket(body: TicketCreate, request: Request, response: Response) -> Any:
    runtime = request.app.state.runtime
    ticket_id = uuid.uuid4()
    actor = Actor(id=body.requester.id, role=ActorRole.REQUESTER)

    def build(number: str) -> CreateTicket:
        return CreateTicket(
            ticket_id=ticket_id, number=number, subject=body.subject, requester=body.requester,
            channel=body.channel, type=body.type, by=actor, description=body.description,
            category=body.category, priority=body.priority, impact=body.impact, urgency=body.urgency,
            affected_service=body.affected_service, language=body.language, tags=body.tags,
            custom_fields=body.custom_fields, follow_up_of=body.follow_up_of,
        )

    state, _ = await handlers.create_ticket(runtime, ticket_id, build, now=_now())
    from .store import state_document

    response.headers["Location"] = f"/v1/tickets/{ticket_id}"
    response.headers["ETag"] = _etag(state.version)
    return state_document(state)


@router.get("/tickets/{ticket_id}", response_model=TicketView, summary="A ticket's current state",
            responses={404: {"description": "No such ticket"}})
async def get_ticket(ticket_id: UUID, request: Request) -> Any:
    engine = request.app.state.runtime.reader
    async with engine.connect() as conn:
        row = (await conn.execute(
            sa.select(tickets.c.document, tickets.c.version).where(tickets.c.id == ticket_id)
        )).first()
    if row is None:
        raise Problem(404, "Not found", f"No ticket {ticket_id}.")
    return JSONResponse(row.document, headers={"ETag": _etag(row.version)})


@router.get("/tickets/{ticket_id}/events", response_model=list[EventView],
            summary="A ticket's full history, oldest first")
async def ticket_events(ticket_id: UUID, request: Request) -> Any:
    engine = request.app.state.runtime.reader
    async with engine.connect() as conn:
        envelopes = await eventstore.read_stream(conn, ticket_id)
    if not envelopes:
        raise Problem(404, "Not found", f"No ticket {ticket_id}.")
    return [envelope_to_dict(env) for env in envelopes]
