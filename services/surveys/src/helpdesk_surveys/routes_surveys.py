"""Surveys over HTTP: the staff list, the public link API, agent-satisfaction rounds."""

from __future__ import annotations

import base64
import uuid
from datetime import datetime, timedelta
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Query, Request

from helpdesk_events.surveys import SurveyKind
from helpdesk_runtime.problems import Problem, field_error
from helpdesk_runtime.ratelimit import TOO_MANY_REQUESTS, rate_limited

from . import access, answering
from .domain.lifecycle import Given, Status
from .domain.policy import Question
from .domain.scales import ANCHORS, PROMPTS, scale_of
from .schemas import (
    AgentLink,
    AgentRoundIn,
    AgentRoundOut,
    QuestionView,
    ResponseIn,
    SurveyForm,
    SurveyPage,
    SurveyView,
)
from .store import link_of, publish, question_columns, questions_of, sent_event, utc
from .tables import surveys, tickets

router = APIRouter(prefix="/v1", tags=["surveys"], dependencies=[access.CONFIGURE])
#: The survey link is the credential: no bearer token here.
public_router = APIRouter(prefix="/v1", tags=["surveys"], dependencies=[rate_limited("survey_link")],
                          responses=TOO_MANY_REQUESTS)

_LINK_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "Malformed, tampered with or unknown token"},
    409: {"description": "Already answered (links are single use)"},
    410: {"description": "Expired, or cancelled because the ticket was reopened"},
}


def question_views(questions: tuple[Question, ...]) -> list[QuestionView]:
    """How each question reads on the form."""
    views = []
    for q in questions:
        kind = SurveyKind(q.kind)
        low, high = scale_of(kind)
        views.append(
            QuestionView(
                kind=kind,
                prompt=PROMPTS[kind],
                scale_min=low,
                scale_max=high,
                label_min=ANCHORS[kind][0],
                label_max=ANCHORS[kind][1],
                comment_required_at_or_below=q.comment_required_at_or_below,
            )
        )
    return views


@public_router.get(
    "/surveys/{token}",
    response_model=SurveyForm,
    summary="The questions behind a survey link (public)",
    responses=_LINK_ERRORS,
)
async def get_survey(token: str, request: Request) -> SurveyForm:
    settings, now = request.app.state.settings, request.app.state.clock()
    async with request.app.state.runtime.reader.connect() as conn:
        row = await answering.open_survey(conn, settings, token, now)
        number = None
        if row.ticket_id is not None:
            number = await conn.scalar(
                sa.select(tickets.c.number).where(tickets.c.ticket_id == row.ticket_id)
            )
    return SurveyForm(
        survey_id=row.id,
        status=row.status,
        expires_at=utc(row.expires_at),
        questions=question_views(questions_of(row)),
        ticket_number=number,
    )


@public_router.post(
    "/surveys/{token}/responses",
    status_code=201,
    summary="Answer a survey (public, single use)",
    responses={
        **_LINK_ERRORS,
        422: {"description": "Score off the scale, question missing, comment required"},
    },
)
async def respond(token: str, body: ResponseIn, request: Request) -> dict[str, Any]:
    settings, now = request.app.state.settings, request.app.state.clock()
    given = [Given(kind=a.kind, score=a.score) for a in body.answers]
    async with request.app.state.runtime.engine.begin() as conn:
        event = await answering.answer(conn, settings, token, given, body.comment, now)
    request.app.state.runtime.wake_relay()
    return {
        "survey_id": str(event.survey_id),
        "status": Status.ANSWERED.value,
        "answers": [a.model_dump(mode="json") for a in event.answers],
    }


def _view(row: Any) -> SurveyView:
    return SurveyView(
        id=row.id,
        ticket_id=row.ticket_id,
        policy_id=row.policy_id,
        round_id=row.round_id,
        kinds=[SurveyKind(q["kind"]) for q in row.questions],
        status=row.status,
        requester_id=row.requester_id,
        agent_id=row.agent_id,
        team=row.team,
        channel=row.channel,
        category=row.category,
        due_at=utc(row.due_at),
        sent_at=utc(row.sent_at),
        expires_at=utc(row.expires_at),
        reminded_at=utc(row.reminded_at),
        closed_at=utc(row.closed_at),
        answers=row.answers,
        comment=row.comment,
    )


def _offset(cursor: str | None) -> int:
    if cursor is None:
        return 0
    try:
        value = int(base64.urlsafe_b64decode(cursor.encode()).decode())
    except ValueError:
        value = -1
    if value < 0:
        raise Problem(
            422,
            "Validation failed",
            "Invalid cursor.",
            errors=[field_error("query.cursor", "invalid")],
        )
    return value


@router.get(
    "/surveys",
    response_model=SurveyPage,
    summary="Surveys for support staff, newest first, filtered",
)
async def list_surveys(
    request: Request,
    status: Annotated[Status | None, Query()] = None,
    ticket_id: Annotated[uuid.UUID | None, Query()] = None,
    requester_id: Annotated[str | None, Query(max_length=200)] = None,
    agent_id: Annotated[str | None, Query(max_length=200)] = None,
    team: Annotated[str | None, Query(max_length=200)] = None,
    channel: Annotated[str | None, Query(max_length=32)] = None,
    category: Annotated[str | None, Query(max_length=200)] = None,
    round_id: Annotated[uuid.UUID | None, Query()] = None,
    kind: Annotated[SurveyKind | None, Query(description="Surveys asking this question")] = None,
    from_: Annotated[
        datetime | None, Query(alias="from", description="Due at or after (RFC 3339)")
    ] = None,
    to: Annotated[datetime | None, Query(description="Due before (RFC 3339)")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=40)] = None,
) -> SurveyPage:
    query = sa.select(surveys)
    for column, value in (
        (surveys.c.status, status.value if status else None),
        (surveys.c.ticket_id, ticket_id),
        (surveys.c.requester_id, requester_id),
        (surveys.c.agent_id, agent_id),
        (surveys.c.team, team),
        (surveys.c.channel, channel),
        (surveys.c.category, category),
        (surveys.c.round_id, round_id),
    ):
        if value is not None:
            query = query.where(column == value)
    for bound, op in ((from_, "ge"), (to, "lt")):
        if bound is not None:
            if bound.tzinfo is None:
                raise Problem(
                    422,
                    "Validation failed",
                    "Times need a UTC offset.",
                    errors=[
                        field_error(
                            "query.from" if op == "ge" else "query.to", "needs a UTC offset"
                        )
                    ],
                )
            query = query.where(
                surveys.c.due_at >= bound if op == "ge" else surveys.c.due_at < bound
            )
    if kind is not None:
        query = query.where(surveys.c.kinds.contains(f",{kind.value},", autoescape=True))
    offset = _offset(cursor)
    ordered = query.order_by(surveys.c.due_at.desc(), surveys.c.id.desc())
    async with request.app.state.runtime.reader.connect() as conn:
        rows = (await conn.execute(ordered.offset(offset).limit(limit + 1))).all()
    more = len(rows) > limit
    page = rows[:limit]
    next_cursor = base64.urlsafe_b64encode(str(offset + limit).encode()).decode() if more else None
    return SurveyPage(items=[_view(r) for r in page], next_cursor=next_cursor)


@router.post(
    "/agent-surveys",
    status_code=201,
    response_model=AgentRoundOut,
    tags=["agent satisfaction"],
    summary="Open an agent-satisfaction round: one single-use link per agent",
)
async def open_agent_round(body: AgentRoundIn, request: Request) -> AgentRoundOut:
    settings, now = request.app.state.settings, request.app.state.clock()
    round_id = uuid.uuid4()
    expires_at = now + timedelta(seconds=body.expires_after_seconds)
    questions = (
        Question(
            kind=SurveyKind.AGENT_SATISFACTION,
            comment_required_at_or_below=body.comment_required_at_or_below,
        ),
    )
    links = []
    async with request.app.state.runtime.engine.begin() as conn:
        for agent in body.agents:
            survey_id = uuid.uuid4()
            await conn.execute(
                sa.insert(surveys).values(
                    id=survey_id,
                    round_id=round_id,
                    **question_columns(questions),
                    requester_id=agent.id,
                    requester_email=agent.email,
                    agent_id=agent.id,
                    team=agent.team,
                    status=Status.SENT.value,
                    triggered_at=now,
                    due_at=now,
                    sent_at=now,
                    expires_at=expires_at,
                )
            )
            row = (await conn.execute(sa.select(surveys).where(surveys.c.id == survey_id))).one()
            await publish(conn, settings, [sent_event(settings, row, reminder=False)], now)
            links.append(
                AgentLink(agent_id=agent.id, survey_id=survey_id, link=link_of(settings, survey_id))
            )
    request.app.state.runtime.wake_relay()
    return AgentRoundOut(round_id=round_id, expires_at=expires_at, surveys=links)
