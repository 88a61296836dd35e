"""Reading and writing the surveys tables, and queuing survey events (outbox + webhook)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import datetime, timezone, UTC
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from helpdesk_events.codec import envelope_to_dict
from helpdesk_events.envelope import Envelope, new_envelope
from helpdesk_events.outbox import add_to_outbox
from helpdesk_events.surveys import (
    ExpiryReason,
    SurveyExpired,
    SurveyKind,
    SurveyResponded,
    SurveySent,
)

from .config import SurveysSettings
from .domain.lifecycle import Status
from .domain.policy import Policy, Question, TicketFacts
from .tables import policies, surveys, tickets, webhook_deliveries
from .tokens import make_token

SOURCE = "surveys"

SurveyEvent = SurveySent | SurveyResponded | SurveyExpired


def utc(value: datetime | None) -> datetime | None:
    """`value` as an aware UTC datetime (SQLite hands back naive ones)."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def policy_from_row(row: Any) -> Policy:
    """A domain policy from its table row."""
    return Policy.model_validate(row.document)


async def load_policies(conn: AsyncConnection) -> list[Policy]:
    """Every stored policy."""
    rows = (await conn.execute(sa.select(policies.c.document))).all()
    return [policy_from_row(r) for r in rows]


async def load_ticket(conn: AsyncConnection, ticket_id: uuid.UUID) -> TicketFacts | None:
    """What is known of a ticket, or None if its creation was never seen."""
    row = (await conn.execute(sa.select(tickets).where(tickets.c.ticket_id == ticket_id))).first()
    if row is None:
        return None
    return TicketFacts(
        ticket_id=row.ticket_id,
        requester_id=row.requester_id,
        requester_email=row.requester_email,
        channel=row.channel,
        category=row.category,
        type=row.type,
        team=row.team,
        agent=row.agent,
    )


async def last_surveyed_at(conn: AsyncConnection, requester_id: str) -> datetime | None:
    """When the requester's latest ticket survey (not cancelled) was triggered."""
    value = await conn.scalar(
        sa.select(sa.func.max(surveys.c.triggered_at)).where(
            surveys.c.requester_id == requester_id,
            surveys.c.ticket_id.is_not(None),
            surveys.c.status != Status.CANCELLED.value,
        )
    )
    return utc(value)


def questions_of(row: Any) -> tuple[Question, ...]:
    """The questions a survey row asks."""
    return tuple(Question.model_validate(q) for q in row.questions)


def question_columns(questions: Sequence[Question]) -> dict[str, Any]:
    """The `questions` and `kinds` columns of a survey asking `questions`."""
    kinds = ",".join(SurveyKind(q.kind).value for q in questions)
    return {"questions": [q.model_dump(mode="json") for q in questions], "kinds": f",{kinds},"}


def link_of(settings: SurveysSettings, survey_id: uuid.UUID) -> str:
    """The public form URL of a survey."""
    return f"{settings.link_base()}/s/{make_token(settings.link_secret, survey_id)}"


async def publish(
    conn: AsyncConnection, settings: SurveysSettings, events: Sequence[SurveyEvent], now: datetime
) -> None:
    """Queue survey events in the caller's transaction: outbox always, webhook when configured."""
    envelopes: list[Envelope] = [
        new_envelope(e, source=SOURCE, subject=str(e.survey_id), time=now) for e in events
    ]
    await add_to_outbox(conn, envelopes)
    if settings.webhook_url and envelopes:
        await conn.execute(
            sa.insert(webhook_deliveries),
            [
                {
                    "event_id": env.id,
                    "body": json.dumps(envelope_to_dict(env), separators=(",", ":")),
                    "attempts": 0,
                    "next_attempt_at": now,
                    "failed": False,
                }
                for env in envelopes
            ],
        )


def sent_event(settings: SurveysSettings, row: Any, *, reminder: bool) -> SurveySent:
    """`SurveySent` for a survey row (the first send or its reminder)."""
    return SurveySent(
        survey_id=row.id,
        ticket_id=row.ticket_id,
        kinds=tuple(SurveyKind(q["kind"]) for q in row.questions),
        requester_id=row.requester_id,
        requester_email=row.requester_email,
        agent_id=row.agent_id,
        team=row.team,
        link=link_of(settings, row.id),
        expires_at=utc(row.expires_at),
        reminder=reminder,
    )


def closed_event(row: Any, reason: ExpiryReason) -> SurveyExpired:
    """`SurveyExpired` for a survey that closes unanswered."""
    return SurveyExpired(survey_id=row.id, ticket_id=row.ticket_id, reason=reason)


async def transition(
    conn: AsyncConnection, survey_id: uuid.UUID, from_status: Sequence[Status], **values: Any
) -> bool:
    """Move a survey on only if still in one of `from_status` (guards races, double work)."""
    result = await conn.execute(
        sa.update(surveys)
        .where(surveys.c.id == survey_id, surveys.c.status.in_([s.value for s in from_status]))
        .values(**values)
    )
    return result.rowcount == 1
