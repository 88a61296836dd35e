"""Survey lifecycle and answer validation."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone, UTC

import pytest
from hypothesis import given
from hypothesis import strategies as st

from helpdesk_events.surveys import SurveyKind
from helpdesk_surveys.domain.lifecycle import (
    AlreadyAnswered,
    Closed,
    Given,
    InvalidAnswers,
    NotOpen,
    Status,
    can_cancel,
    check_open,
    due_for_reminder,
    validate_answers,
)
from helpdesk_surveys.domain.policy import Question
from helpdesk_surveys.domain.scales import SCALES

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
LATER = T0 + timedelta(days=1)
CSAT = Question(kind=SurveyKind.CSAT, comment_required_at_or_below=2)
NPS = Question(kind=SurveyKind.NPS)


def test_sent_survey_before_expiry_is_open() -> None:
    check_open(Status.SENT, LATER, T0)


@pytest.mark.parametrize(
    ("status", "expires_at", "error"),
    [
        (Status.ANSWERED, LATER, AlreadyAnswered),
        (Status.EXPIRED, LATER, Closed),
        (Status.CANCELLED, LATER, Closed),
        (Status.SENT, T0, Closed),
        (Status.SCHEDULED, LATER, NotOpen),
    ],
)
def test_closed_surveys_refuse_answers(
    status: Status, expires_at: datetime, error: type[Exception]
) -> None:
    with pytest.raises(error):
        check_open(status, expires_at, T0)


def test_answers_come_back_in_question_order_with_their_scales() -> None:
    answers = validate_answers(
        (CSAT, NPS), [Given(kind="nps", score=9), Given(kind="csat", score=4)], None
    )
    assert [(a.kind, a.score, a.scale_min, a.scale_max) for a in answers] == [
        (SurveyKind.CSAT, 4, 1, 5),
        (SurveyKind.NPS, 9, 0, 10),
    ]


@given(st.sampled_from(list(SCALES)), st.integers(min_value=-5, max_value=15))
def test_scores_off_the_scale_are_refused(kind: SurveyKind, score: int) -> None:
    low, high = SCALES[kind]
    question = Question(kind=kind)
    if low <= score <= high:
        assert (
            validate_answers((question,), [Given(kind=kind, score=score)], None)[0].score == score
        )
    else:
        with pytest.raises(InvalidAnswers) as caught:
            validate_answers((question,), [Given(kind=kind, score=score)], None)
        assert "answers.0.score" in caught.value.errors


def test_missing_extra_and_duplicate_answers_are_refused() -> None:
    with pytest.raises(InvalidAnswers) as missing:
        validate_answers((CSAT, NPS), [Given(kind="csat", score=4)], None)
    assert "answers" in missing.value.errors
    with pytest.raises(InvalidAnswers) as extra:
        validate_answers((CSAT,), [Given(kind="csat", score=4), Given(kind="ces", score=2)], None)
    assert "answers.1.kind" in extra.value.errors
    with pytest.raises(InvalidAnswers):
        validate_answers((CSAT,), [Given(kind="csat", score=4), Given(kind="csat", score=3)], None)


def test_low_score_requires_a_comment() -> None:
    with pytest.raises(InvalidAnswers) as caught:
        validate_answers((CSAT,), [Given(kind="csat", score=2)], "  ")
    assert "comment" in caught.value.errors
    assert validate_answers((CSAT,), [Given(kind="csat", score=2)], "slow")[0].score == 2
    assert validate_answers((CSAT,), [Given(kind="csat", score=3)], None)[0].score == 3


def test_only_unanswered_surveys_can_be_cancelled() -> None:
    assert can_cancel(Status.SCHEDULED) and can_cancel(Status.SENT)
    assert not any(can_cancel(s) for s in (Status.ANSWERED, Status.EXPIRED, Status.CANCELLED))


def test_one_reminder_once_its_time_has_come() -> None:
    assert due_for_reminder(Status.SENT, T0, False, T0)
    assert not due_for_reminder(Status.SENT, T0, True, T0)
    assert not due_for_reminder(Status.SENT, LATER, False, T0)
    assert not due_for_reminder(Status.SENT, None, False, T0)
    assert not due_for_reminder(Status.ANSWERED, T0, False, T0)
