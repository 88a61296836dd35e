"""Events on `helpdesk.surveys`, published by the surveys service.

Subject and key: the survey id, so one survey's sent / responded / expired stay in order.
Ticket surveys also carry the ticket id; agent satisfaction surveys have none.
"""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from helpdesk_events import topics
from helpdesk_events.envelope import Event
from helpdesk_events.sla import Instant

Channel = Literal["email", "phone", "chat", "portal", "api", "walk_in", "social"]


class SurveyKind(StrEnum):
    """Which question a survey asks."""

    CSAT = "csat"
    CES = "ces"
    NPS = "nps"
    AGENT_SATISFACTION = "agent_satisfaction"


class ExpiryReason(StrEnum):
    """Why a survey can no longer be answered."""

    EXPIRED = "expired"
    CANCELLED = "cancelled"


class SurveyAnswer(BaseModel):
    """One answered question: a score on a closed scale."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: SurveyKind = Field(description="The question answered.")
    score: int = Field(description="The score given, within [scale_min, scale_max].")
    scale_min: int = Field(description="Lowest possible score, e.g. 1 for CSAT, 0 for NPS.")
    scale_max: int = Field(description="Highest possible score, e.g. 5 for CSAT, 10 for NPS.")

    @model_validator(mode="after")
    def _score_on_scale(self) -> SurveyAnswer:
        if self.scale_min >= self.scale_max:
            raise ValueError(f"empty scale [{self.scale_min}, {self.scale_max}]")
        if not self.scale_min <= self.score <= self.scale_max:
            raise ValueError(
                f"score {self.score} is off the scale [{self.scale_min}, {self.scale_max}]"
            )
        return self


class SurveySent(Event):
    """A survey link was sent (or re-sent as a reminder)."""

    TYPE: ClassVar[str] = "helpdesk.survey.sent.v1"
    TOPIC: ClassVar[str] = topics.SURVEYS
    SUBJECT: ClassVar[str] = "survey_id"

    survey_id: uuid.UUID = Field(description="The survey (also the subject and key).")
    ticket_id: uuid.UUID | None = Field(
        default=None, description="The ticket surveyed; null for agent satisfaction surveys."
    )
    kinds: tuple[SurveyKind, ...] = Field(min_length=1, description="The questions asked.")
    requester_id: str = Field(min_length=1, description="Id of the person asked.")
    requester_email: str | None = Field(default=None, description="Where the link was sent.")
    agent_id: str | None = Field(default=None, description="Id of the agent being rated.")
    team: str | None = Field(default=None, description="Id of the team being rated.")
    link: str = Field(
        pattern=r"^https?://", description="Single-use signed URL of the survey form."
    )
    expires_at: Instant = Field(description="When the link stops accepting answers.")
    reminder: bool = Field(
        default=False, description="True for a reminder of an unanswered survey."
    )


class SurveyResponded(Event):
    """A survey was answered (once: links are single use)."""

    TYPE: ClassVar[str] = "helpdesk.survey.responded.v1"
    TOPIC: ClassVar[str] = topics.SURVEYS
    SUBJECT: ClassVar[str] = "survey_id"

    survey_id: uuid.UUID = Field(description="The survey (also the subject and key).")
    ticket_id: uuid.UUID | None = Field(
        default=None, description="The ticket surveyed; null for agent satisfaction surveys."
    )
    answers: tuple[SurveyAnswer, ...] = Field(
        min_length=1, description="One per question answered."
    )
    comment: str | None = Field(default=None, description="Free-text comment, if any.")
    requester_id: str = Field(min_length=1, description="Id of the person who answered.")
    agent_id: str | None = Field(default=None, description="Id of the agent rated (for slicing).")
    team: str | None = Field(default=None, description="Id of the team rated (for slicing).")
    channel: Channel | None = Field(
        default=None, description="The ticket's intake channel (for slicing)."
    )
    category: str | None = Field(default=None, description="The ticket's category (for slicing).")


class SurveyExpired(Event):
    """A survey can no longer be answered."""

    TYPE: ClassVar[str] = "helpdesk.survey.expired.v1"
    TOPIC: ClassVar[str] = topics.SURVEYS
    SUBJECT: ClassVar[str] = "survey_id"

    survey_id: uuid.UUID = Field(description="The survey (also the subject and key).")
    ticket_id: uuid.UUID | None = Field(
        default=None, description="The ticket surveyed; null for agent satisfaction surveys."
    )
    reason: ExpiryReason = Field(description="Why the survey closed unanswered.")
