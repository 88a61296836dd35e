"""Answering through a link: token -> survey -> checks -> `SurveyResponded`, one transaction."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from helpdesk_events.surveys import SurveyResponded
from helpdesk_runtime.problems import Problem, field_error

from .config import SurveysSettings
from .domain.lifecycle import (
    AlreadyAnswered,
    Closed,
    Given,
    InvalidAnswers,
    NotOpen,
    Status,
    check_open,
    validate_answers,
)
from .store import publish, questions_of, transition, utc
from .tables import surveys
from .tokens import read_token

#: Documented answers to bad links: a token that is malformed, forged, tampered with or
#: unknown is 404 (indistinguishable, so nothing leaks); a used link 409; an expired or
#: cancelled link 410; answers that do not fit the questions 422.
NOT_FOUND = Problem(404, "Survey not found", "This survey link is not valid.")


def survey_id_of(settings: SurveysSettings, token: str) -> uuid.UUID:
    """The survey id behind a genuine token, else 404."""
    survey_id = read_token(settings.link_secret, token)
    if survey_id is None:
        raise NOT_FOUND
    return survey_id


async def open_survey(
    conn: AsyncConnection, settings: SurveysSettings, token: str, now: datetime
) -> Any:
    """The survey row behind a link if it takes an answer, else the documented problem."""
    survey_id = survey_id_of(settings, token)
    row = (await conn.execute(sa.select(surveys).where(surveys.c.id == survey_id))).first()
    if row is None:
        raise NOT_FOUND
    try:
        check_open(Status(row.status), utc(row.expires_at), now)  # type: ignore[arg-type]
    except NotOpen:
        raise NOT_FOUND from None
    except AlreadyAnswered as exc:
        raise Problem(409, "Survey already answered", f"{exc}; links are single use.") from None
    except Closed as exc:
        raise Problem(410, "Survey closed", f"{exc}; it takes no answers any more.") from None
    return row


async def answer(
    conn: AsyncConnection,
    settings: SurveysSettings,
    token: str,
    given: list[Given],
    comment: str | None,
    now: datetime,
) -> SurveyResponded:
    """Record the answers of a link and queue `SurveyResponded`; raises the documented problems."""
    row = await open_survey(conn, settings, token, now)
    try:
        answers = validate_answers(questions_of(row), given, comment)
    except InvalidAnswers as exc:
        raise Problem(
            422,
            "Validation failed",
            str(exc),
            errors=[
                field_error(f, m, "off_scale" if f.endswith("score") else "invalid")
                for f, m in exc.errors.items()
            ],
        ) from None
    comment = comment.strip() if comment and comment.strip() else None
    stored = [a.model_dump(mode="json") for a in answers]
    if not await transition(
        conn,
        row.id,
        [Status.SENT],
        status=Status.ANSWERED.value,
        closed_at=now,
        answers=stored,
        comment=comment,
    ):
        # Another answer won the race for this single-use link.
        raise Problem(
            409,
            "Survey already answered",
            "This survey was answered already; links are single use.",
        )
    event = SurveyResponded(
        survey_id=row.id,
        ticket_id=row.ticket_id,
        answers=answers,
        comment=comment,
        requester_id=row.requester_id,
        agent_id=row.agent_id,
        team=row.team,
        channel=row.channel,
        category=row.category,
    )
    await publish(conn, settings, [event], now)
    return event
