"""A survey's life: scheduled -> sent -> answered | expired | cancelled."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from helpdesk_events.surveys import SurveyAnswer, SurveyKind

from .policy import Question
from .scales import on_scale, scale_of


class Status(StrEnum):
    """Where a survey is in its life."""

    SCHEDULED = "scheduled"
    SENT = "sent"
    ANSWERED = "answered"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


#: Statuses a survey never leaves.
FINAL = frozenset({Status.ANSWERED, Status.EXPIRED, Status.CANCELLED})


class SurveyError(Exception):
    """A command the survey's state refuses; `code` names the reason."""

    code = "survey_error"


class NotOpen(SurveyError):
    """The survey was not sent yet (its link is not known to anyone)."""

    code = "not_open"


class AlreadyAnswered(SurveyError):
    """The link was used already: links are single use."""

    code = "already_answered"


class Closed(SurveyError):
    """The survey expired or was cancelled: it takes no answers any more."""

    code = "closed"


class InvalidAnswers(SurveyError):
    """The answers do not fit the questions; `errors` maps a field to a message."""

    code = "invalid_answers"

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


class Given(BaseModel):
    """One score as submitted (not yet checked against the questions)."""

    model_config = ConfigDict(frozen=True)

    kind: SurveyKind
    score: int


def check_open(status: Status, expires_at: datetime, now: datetime) -> None:
    """Raise unless a survey in `status` with this expiry takes an answer at `now`."""
    if status == Status.ANSWERED:
        raise AlreadyAnswered("this survey was answered already")
    if status in (Status.EXPIRED, Status.CANCELLED) or now >= expires_at:
        raise Closed(f"this survey is {status.value if status in FINAL else 'expired'}")
    if status == Status.SCHEDULED:
        raise NotOpen("this survey has not been sent")


def validate_answers(
    questions: tuple[Question, ...], given: list[Given], comment: str | None
) -> tuple[SurveyAnswer, ...]:
    """Check `given` answers every question once, on its scale, with a comment where required."""
    errors: dict[str, str] = {}
    asked = {q.kind: q for q in questions}
    seen: dict[SurveyKind, Given] = {}
    for i, g in enumerate(given):
        field = f"answers.{i}"
        if g.kind not in asked:
            errors[f"{field}.kind"] = f"{g.kind.value} is not asked by this survey"
        elif g.kind in seen:
            errors[f"{field}.kind"] = f"{g.kind.value} is answered twice"
        elif not on_scale(g.kind, g.score):
            low, high = scale_of(g.kind)
            errors[f"{field}.score"] = (
                f"score {g.score} is off the {g.kind.value} scale [{low}, {high}]"
            )
        seen.setdefault(g.kind, g)
    for kind in asked:
        if kind not in seen:
            errors["answers"] = f"{kind.value} is not answered"
    has_comment = bool(comment and comment.strip())
    if not errors and not has_comment:
        for q in questions:
            threshold = q.comment_required_at_or_below
            if threshold is not None and seen[q.kind].score <= threshold:
                errors["comment"] = (
                    f"a comment is required for a {q.kind.value} score of {threshold} or less"
                )
    if errors:
        raise InvalidAnswers(errors)
    result = []
    for q in questions:
        low, high = scale_of(q.kind)
        result.append(
            SurveyAnswer(kind=q.kind, score=seen[q.kind].score, scale_min=low, scale_max=high)
        )
    return tuple(result)


def can_cancel(status: Status) -> bool:
    """A reopened ticket cancels its survey only while it is unanswered."""
    return status in (Status.SCHEDULED, Status.SENT)


def due_for_reminder(
    status: Status, remind_at: datetime | None, reminded: bool, now: datetime
) -> bool:
    """True when a sent survey should get its one reminder at `now`."""
    return status == Status.SENT and remind_at is not None and not reminded and remind_at <= now
