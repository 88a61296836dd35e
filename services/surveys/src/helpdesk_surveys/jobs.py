"""Background work: send due surveys, remind once, expire once, deliver the webhook."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from helpdesk_events.surveys import ExpiryReason

from .config import SurveysSettings
from .domain.lifecycle import Status
from .store import closed_event, publish, sent_event, transition, utc
from .tables import surveys
from .webhook import deliver_due

log = logging.getLogger("helpdesk.surveys.jobs")

BATCH = 100


@dataclass(frozen=True)
class Tick:
    """What one pass of the scheduler did."""

    sent: int = 0
    reminded: int = 0
    expired: int = 0


async def _ids(
    engine: AsyncEngine, where: sa.ColumnElement[bool], order: sa.ColumnElement[object]
) -> list[object]:
    async with engine.connect() as conn:
        return list(
            (
                await conn.scalars(
                    sa.select(surveys.c.id).where(where).order_by(order).limit(BATCH)
                )
            ).all()
        )


async def send_due(engine: AsyncEngine, settings: SurveysSettings, now: datetime) -> int:
    """Send every scheduled survey whose time has come: one `SurveySent` each."""
    done = 0
    due = surveys.c.status == Status.SCHEDULED.value
    for survey_id in await _ids(engine, sa.and_(due, surveys.c.due_at <= now), surveys.c.due_at):
        async with engine.begin() as conn:
            row = (await conn.execute(sa.select(surveys).where(surveys.c.id == survey_id))).one()
            # A link that expired before it could go out is expired, not sent.
            if utc(row.expires_at) <= now:  # type: ignore[operator]
                continue
            if await transition(
                conn, survey_id, [Status.SCHEDULED], status=Status.SENT.value, sent_at=now
            ):
                await publish(conn, settings, [sent_event(settings, row, reminder=False)], now)
                done += 1
    return done


async def remind_due(engine: AsyncEngine, settings: SurveysSettings, now: datetime) -> int:
    """Send the one reminder of each unanswered survey whose reminder time has come."""
    done = 0
    where = sa.and_(
        surveys.c.status == Status.SENT.value,
        surveys.c.remind_at <= now,
        surveys.c.reminded_at.is_(None),
        surveys.c.expires_at > now,
    )
    for survey_id in await _ids(engine, where, surveys.c.remind_at):
        async with engine.begin() as conn:
            result = await conn.execute(
                sa.update(surveys)
                .where(
                    surveys.c.id == survey_id,
                    surveys.c.status == Status.SENT.value,
                    surveys.c.reminded_at.is_(None),
                )
                .values(reminded_at=now)
            )
            if result.rowcount == 1:
                row = (
                    await conn.execute(sa.select(surveys).where(surveys.c.id == survey_id))
                ).one()
                await publish(conn, settings, [sent_event(settings, row, reminder=True)], now)
                done += 1
    return done


async def expire_due(engine: AsyncEngine, settings: SurveysSettings, now: datetime) -> int:
    """Close every open survey past its expiry: one `SurveyExpired` each, never twice."""
    done = 0
    where = sa.and_(
        surveys.c.status.in_([Status.SCHEDULED.value, Status.SENT.value]),
        surveys.c.expires_at <= now,
    )
    for survey_id in await _ids(engine, where, surveys.c.expires_at):
        async with engine.begin() as conn:
            row = (await conn.execute(sa.select(surveys).where(surveys.c.id == survey_id))).one()
            if await transition(
                conn, survey_id, [Status(row.status)], status=Status.EXPIRED.value, closed_at=now
            ):
                if row.status == Status.SENT.value:
                    await publish(conn, settings, [closed_event(row, ExpiryReason.EXPIRED)], now)
                done += 1
    return done


async def tick(engine: AsyncEngine, settings: SurveysSettings, now: datetime) -> Tick:
    """One scheduler pass at `now`: expire first, so a survey never goes out already dead."""
    expired = await expire_due(engine, settings, now)
    return Tick(
        sent=await send_due(engine, settings, now),
        reminded=await remind_due(engine, settings, now),
        expired=expired,
    )


def scheduler(clock: Callable[[], datetime]):  # type: ignore[no-untyped-def]
    """The background job running `tick` every `poll_seconds` and waking the relay after work."""

    async def survey_scheduler(runtime) -> None:  # type: ignore[no-untyped-def]
        settings: SurveysSettings = runtime.settings
        while True:
            result = await tick(runtime.engine, settings, clock())
            if result.sent or result.reminded or result.expired:
                runtime.wake_relay()
            await asyncio.sleep(settings.poll_seconds)

    return survey_scheduler


def webhook_sender(clock: Callable[[], datetime]):  # type: ignore[no-untyped-def]
    """The background job posting queued survey events to the webhook, if one is set."""

    async def survey_webhook_sender(runtime) -> None:  # type: ignore[no-untyped-def]
        settings: SurveysSettings = runtime.settings
        if not settings.webhook_url:
            return
        import httpx

        async with httpx.AsyncClient(timeout=settings.webhook_timeout_seconds) as client:
            while True:
                await deliver_due(runtime.engine, settings, client, clock())
                await asyncio.sleep(min(settings.poll_seconds, settings.webhook_backoff_seconds))

    return survey_webhook_sender
