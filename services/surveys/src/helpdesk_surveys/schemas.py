"""HTTP bodies of the surveys API (separate from tables and events)."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, model_validator

from helpdesk_events.surveys import SurveyKind

from .domain.policy import Conditions, Question, Trigger

#: Seven days: the default link lifetime.
WEEK = 7 * 24 * 3600


class PolicyIn(BaseModel):
    """A survey policy as written by an admin (durations in seconds)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    enabled: bool = True
    position: int = Field(
        0, ge=0, description="Lower positions are tried first; the first match decides."
    )
    trigger: Trigger
    questions: list[Question] = Field(min_length=1, max_length=5)
    delay_seconds: int = Field(
        0, ge=0, le=30 * 24 * 3600, description="Wait this long after the trigger."
    )
    sample_rate: float = Field(
        1.0, ge=0.0, le=1.0, description="Share of matching tickets surveyed."
    )
    throttle_days: int = Field(
        0, ge=0, le=365, description="At most one survey per requester per N days."
    )
    expires_after_seconds: int = Field(WEEK, ge=1, le=365 * 24 * 3600)
    remind_before_seconds: int | None = Field(
        None, ge=1, description="One reminder this long before expiry."
    )
    conditions: Conditions = Conditions()

    @model_validator(mode="after")
    def _consistent(self) -> PolicyIn:
        kinds = [q.kind for q in self.questions]
        if len(set(kinds)) != len(kinds):
            raise ValueError("each question kind may appear once")
        if SurveyKind.AGENT_SATISFACTION in kinds:
            raise ValueError(
                "agent_satisfaction is asked through /v1/agent-surveys, not ticket policies"
            )
        if (
            self.remind_before_seconds is not None
            and self.remind_before_seconds >= self.expires_after_seconds
        ):
            raise ValueError("remind_before_seconds must be shorter than expires_after_seconds")
        return self


class PolicyOut(PolicyIn):
    """A stored survey policy."""

    id: uuid.UUID
    created_at: datetime
    updated_at: datetime


class QuestionView(BaseModel):
    """One question as a requester sees it."""

    kind: SurveyKind
    prompt: str
    scale_min: int
    scale_max: int
    label_min: str
    label_max: str
    comment_required_at_or_below: int | None


class SurveyForm(BaseModel):
    """`GET /v1/surveys/{token}`: what the link asks."""

    survey_id: uuid.UUID
    status: str
    expires_at: datetime
    questions: list[QuestionView]
    ticket_number: str | None = None


class AnswerIn(BaseModel):
    """One score."""

    model_config = ConfigDict(extra="forbid")

    kind: SurveyKind
    score: int


class ResponseIn(BaseModel):
    """`POST /v1/surveys/{token}/responses`: each question answered once, optional comment."""

    model_config = ConfigDict(extra="forbid")

    answers: list[AnswerIn] = Field(min_length=1, max_length=5)
    comment: str | None = Field(None, max_length=5000)


class AnswerOut(BaseModel):
    """An answered score with its scale."""

    kind: SurveyKind
    score: int
    scale_min: int
    scale_max: int


class SurveyView(BaseModel):
    """A survey as support staff see it."""

    id: uuid.UUID
    ticket_id: uuid.UUID | None
    policy_id: uuid.UUID | None
    round_id: uuid.UUID | None
    kinds: list[SurveyKind]
    status: str
    requester_id: str
    agent_id: str | None
    team: str | None
    channel: str | None
    category: str | None
    due_at: datetime
    sent_at: datetime | None
    expires_at: datetime
    reminded_at: datetime | None
    closed_at: datetime | None
    answers: list[AnswerOut] | None
    comment: str | None


class SurveyPage(BaseModel):
    """A page of surveys, newest first; pass `next_cursor` as `cursor` for the next page."""

    items: list[SurveyView]
    next_cursor: str | None


class AgentIn(BaseModel):
    """An agent asked in a satisfaction round."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=200)
    email: str | None = Field(None, max_length=320)
    team: str | None = Field(None, max_length=200)


class AgentRoundIn(BaseModel):
    """`POST /v1/agent-surveys`: open an agent-satisfaction round."""

    model_config = ConfigDict(extra="forbid")

    agents: list[AgentIn] = Field(min_length=1, max_length=1000)
    expires_after_seconds: int = Field(WEEK, ge=60, le=365 * 24 * 3600)
    comment_required_at_or_below: int | None = Field(None, ge=1, le=5)

    @model_validator(mode="after")
    def _unique_agents(self) -> AgentRoundIn:
        ids = [a.id for a in self.agents]
        if len(set(ids)) != len(ids):
            raise ValueError("each agent may appear once in a round")
        return self


class AgentLink(BaseModel):
    """One agent's survey in a round."""

    agent_id: str
    survey_id: uuid.UUID
    link: str


class AgentRoundOut(BaseModel):
    """The round opened, with each agent's link."""

    round_id: uuid.UUID
    expires_at: datetime
    surveys: list[AgentLink]
