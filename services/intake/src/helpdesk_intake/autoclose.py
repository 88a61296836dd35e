"""Auto-close: resolved tickets close after the configured delay, as the system actor."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta, timezone
from uuid import UUID

import sqlalchemy as sa

from helpdesk_events.tickets import SYSTEM_ACTOR, CloseReason, Status
from helpdesk_runtime.runtime import ServiceRuntime

from . import handlers
from .commands import CloseTicket
from .config import IntakeSettings
from .domain import Policy
from .errors import DomainError
from .idempotency import forget_expired
from .tables import tickets

log = logging.getLogger(__name__)


async def due_tickets(runtime: ServiceRuntime, *, now: datetime, delay: timedelta,
                      limit: int) -> list[UUID]:
    """Resolved tickets whose resolution is at least `delay` old, oldest first (read model)."""
    query = (
        sa.select(tickets.c.id)
        .where(tickets.c.status == Status.RESOLVED.value, tickets.c.resolved_at <= now - delay)
        .order_by(tickets.c.resolved_at)
        .limit(limit)
    )
    async with runtime.reader.connect() as conn:
        return list((await conn.execute(query)).scalars())


async def close_due_tickets(
    runtime: ServiceRuntime, *, now: datetime, policy: Policy, limit: int = 200
) -> int:
    """Close every due ticket (one transaction each); returns how many closed."""
    closed = 0
    for ticket_id in await due_tickets(runtime, now=now, delay=policy.auto_close_delay,
                                       limit=limit):
        command = CloseTicket(ticket_id=ticket_id, by=SYSTEM_ACTOR, reason=CloseReason.AUTO_CLOSE)
        try:
            async with runtime.engine.begin() as conn:
                outcome = await handlers.execute(conn, ticket_id, [command], now=now,
                                                 policy=policy)
        except DomainError as exc:  # reopened or closed meanwhile: nothing to do
            log.info("auto-close skipped ticket %s: %s", ticket_id, exc)
            continue
        closed += bool(outcome.envelopes)
    if closed:
        log.info("auto-closed %d tickets", closed)
    return closed


async def auto_close_job(runtime: ServiceRuntime) -> None:
    """Background job: close due tickets and forget old Idempotency-Keys, every interval."""
    settings = runtime.settings
    assert isinstance(settings, IntakeSettings)
    policy = settings.policy()
    ttl = timedelta(seconds=settings.idempotency_ttl_seconds)
    while True:
        now = datetime.now(timezone.utc)
        closed = await close_due_tickets(runtime, now=now, policy=policy,
                                         limit=settings.auto_close_batch)
        async with runtime.engine.begin() as conn:
            await forget_expired(conn, now=now, ttl=ttl)
        if closed < settings.auto_close_batch:  # a full batch: more may be due right now
            await asyncio.sleep(settings.auto_close_interval_seconds)
