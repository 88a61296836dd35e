"""Events in (inside the inbox transaction): ticket facts; surveys scheduled or cancelled."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from helpdesk_events.envelope import Envelope
from helpdesk_events.surveys import ExpiryReason
from helpdesk_events.tickets import (
    ActorRole,
    CloseReason,
    TicketAssigned,
    TicketCategorized,
    TicketClosed,
    TicketCreated,
    TicketEscalated,
    TicketReopened,
    TicketResolved,
    TicketTransferred,
    TicketUpdated,
)
from helpdesk_runtime.upsert import upsert_row

from .config import SurveysSettings
from .domain.lifecycle import Status
from .domain.policy import Schedule, Trigger, decide_schedule
from .store import (
    closed_event,
    last_surveyed_at,
    load_policies,
    load_ticket,
    publish,
    question_columns,
    transition,
)
from .tables import surveys, tickets

log = logging.getLogger("helpdesk.surveys")

Clock = Callable[[], datetime]
Handler = Callable[[AsyncConnection, Envelope], Awaitable[None]]


async def _update_ticket(conn: AsyncConnection, ticket_id: uuid.UUID, **values: Any) -> None:
    values = {k: v for k, v in values.items() if v is not None}
    if values:
        await conn.execute(
            sa.update(tickets).where(tickets.c.ticket_id == ticket_id).values(**values)
        )


async def _record_created(conn: AsyncConnection, e: TicketCreated) -> None:
    await upsert_row(conn, tickets, ["ticket_id"], {
        "ticket_id": e.ticket_id,
        "number": e.number,
        "requester_id": e.requester.id,
        "requester_email": e.requester.email,
        "channel": e.channel.value,
        "category": e.category,
        "type": e.type.value,
    })


async def _record_updated(conn: AsyncConnection, e: TicketUpdated) -> None:
    values: dict[str, Any] = {}
    for change in e.changes:
        if change.field == "requester":
            values.update(requester_id=change.after.id, requester_email=change.after.email)
        elif change.field in ("channel", "type"):
            values[change.field] = change.after.value
    await _update_ticket(conn, e.ticket_id, **values)


async def _schedule(
    conn: AsyncConnection,
    trigger: Trigger,
    ticket_id: uuid.UUID,
    occurred_at: datetime,
    now: datetime,
) -> None:
    facts = await load_ticket(conn, ticket_id)
    if facts is None:
        log.warning("ticket %s resolved/closed before its creation was seen: no survey", ticket_id)
        return
    pending = await conn.scalar(
        sa.select(sa.func.count())
        .select_from(surveys)
        .where(
            surveys.c.ticket_id == ticket_id,
            surveys.c.status.in_([Status.SCHEDULED.value, Status.SENT.value]),
        )
    )
    if pending:
        return  # e.g. closed after resolved: the survey already on its way stands
    decision = decide_schedule(
        await load_policies(conn),
        trigger,
        facts,
        occurred_at=occurred_at,
        last_surveyed_at=await last_surveyed_at(conn, facts.requester_id),
        now=now,
    )
    if not isinstance(decision, Schedule):
        log.info("no survey for ticket %s: %s", ticket_id, decision.value)
        return
    await conn.execute(
        sa.insert(surveys).values(
            id=uuid.uuid4(),
            ticket_id=ticket_id,
            policy_id=decision.policy_id,
            **question_columns(decision.questions),
            requester_id=facts.requester_id,
            requester_email=facts.requester_email,
            agent_id=facts.agent,
            team=facts.team,
            channel=facts.channel,
            category=facts.category,
            status=Status.SCHEDULED.value,
            triggered_at=occurred_at,
            due_at=decision.due_at,
            expires_at=decision.expires_at,
            remind_at=decision.remind_at,
        )
    )


async def _cancel(
    conn: AsyncConnection, settings: SurveysSettings, ticket_id: uuid.UUID, now: datetime
) -> None:
    rows = (
        await conn.execute(
            sa.select(surveys).where(
                surveys.c.ticket_id == ticket_id,
                surveys.c.status.in_([Status.SCHEDULED.value, Status.SENT.value]),
            )
        )
    ).all()
    for row in rows:
        if await transition(
            conn, row.id, [Status(row.status)], status=Status.CANCELLED.value, closed_at=now
        ):
            # Only a sent survey has a link out there to withdraw.
            if row.status == Status.SENT.value:
                await publish(conn, settings, [closed_event(row, ExpiryReason.CANCELLED)], now)


def make_handler(settings: SurveysSettings, clock: Clock) -> Handler:
    """The ticket-topic handler of this service, publishing with `settings` at `clock()` time."""

    async def handle(conn: AsyncConnection, envelope: Envelope) -> None:
        """Apply one ticket event to surveys' state."""
        e = envelope.data
        if isinstance(e, TicketCreated):
            await _record_created(conn, e)
        elif isinstance(e, TicketUpdated):
            await _record_updated(conn, e)
        elif isinstance(e, TicketCategorized):
            await _update_ticket(conn, e.ticket_id, category=e.to_category)
        elif isinstance(e, TicketAssigned):
            await conn.execute(
                sa.update(tickets)
                .where(tickets.c.ticket_id == e.ticket_id)
                .values(team=e.team, agent=e.agent)
            )
        elif isinstance(e, TicketEscalated):
            await _update_ticket(conn, e.ticket_id, team=e.to_team, agent=e.to_agent)
        elif isinstance(e, TicketTransferred):
            await conn.execute(
                sa.update(tickets)
                .where(tickets.c.ticket_id == e.ticket_id)
                .values(team=e.to_team, agent=e.to_agent)
            )
        elif isinstance(e, TicketResolved):
            if e.by.role == ActorRole.AGENT:
                # The resolving agent is the one rated when nobody was assigned.
                await conn.execute(
                    sa.update(tickets)
                    .where(tickets.c.ticket_id == e.ticket_id, tickets.c.agent.is_(None))
                    .values(agent=e.by.id)
                )
            await _schedule(conn, Trigger.RESOLVED, e.ticket_id, e.occurred_at, clock())
        elif isinstance(e, TicketClosed):
            if e.reason != CloseReason.MERGED:
                await _schedule(conn, Trigger.CLOSED, e.ticket_id, e.occurred_at, clock())
        elif isinstance(e, TicketReopened):
            await _cancel(conn, settings, e.ticket_id, clock())

    return handle
