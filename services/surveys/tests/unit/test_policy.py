"""Survey policies: matching, sampling, throttling and scheduling."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone, UTC

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from helpdesk_events.surveys import SurveyKind
from helpdesk_surveys.domain.policy import (
    Conditions,
    Policy,
    Question,
    Schedule,
    Skip,
    TicketFacts,
    Trigger,
    decide_schedule,
    matches,
    sample_point,
    sampled,
    throttled,
)

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def policy(**overrides: object) -> Policy:
    values: dict[str, object] = dict(
        id=uuid.uuid4(),
        name="default",
        trigger=Trigger.RESOLVED,
        questions=(Question(kind=SurveyKind.CSAT),),
        delay=timedelta(hours=1),
        expires_after=timedelta(days=7),
    )
    values.update(overrides)
    return Policy(**values)  # type: ignore[arg-type]


def ticket(**overrides: object) -> TicketFacts:
    values: dict[str, object] = dict(
        ticket_id=uuid.uuid4(),
        requester_id="u-1",
        channel="email",
        category="network/vpn",
        type="incident",
        team="desk",
        agent="a-1",
    )
    values.update(overrides)
    return TicketFacts(**values)  # type: ignore[arg-type]


def decide(
    policies: list[Policy],
    facts: TicketFacts,
    *,
    trigger: Trigger = Trigger.RESOLVED,
    last: datetime | None = None,
    now: datetime = T0,
) -> Schedule | Skip:
    return decide_schedule(policies, trigger, facts, occurred_at=T0, last_surveyed_at=last, now=now)


def test_resolved_ticket_is_scheduled_after_the_policy_delay() -> None:
    p = policy(remind_before=timedelta(days=2))
    result = decide([p], ticket())
    assert isinstance(result, Schedule)
    assert result.policy_id == p.id
    assert result.due_at == T0 + timedelta(hours=1)
    assert result.expires_at == T0 + timedelta(hours=1, days=7)
    assert result.remind_at == result.expires_at - timedelta(days=2)


def test_policy_fires_only_on_its_trigger() -> None:
    assert decide([policy(trigger=Trigger.CLOSED)], ticket()) == Skip.NO_POLICY
    assert isinstance(
        decide([policy(trigger=Trigger.CLOSED)], ticket(), trigger=Trigger.CLOSED), Schedule
    )


def test_disabled_policy_never_matches() -> None:
    assert decide([policy(enabled=False)], ticket()) == Skip.NO_POLICY


@pytest.mark.parametrize(
    ("conditions", "expected"),
    [
        (Conditions(channels=("email",)), True),
        (Conditions(channels=("chat",)), False),
        (Conditions(categories=("network",)), True),
        (Conditions(categories=("network/vpn",)), True),
        (Conditions(categories=("net",)), False),
        (Conditions(types=("service_request",)), False),
        (Conditions(teams=("desk", "field")), True),
        (Conditions(teams=("field",)), False),
    ],
)
def test_conditions_select_tickets_by_channel_category_type_and_team(
    conditions: Conditions, expected: bool
) -> None:
    assert matches(policy(conditions=conditions), Trigger.RESOLVED, ticket()) is expected


def test_first_policy_by_position_decides() -> None:
    first = policy(name="b", position=0, conditions=Conditions(channels=("email",)))
    second = policy(name="a", position=1)
    result = decide([second, first], ticket())
    assert isinstance(result, Schedule) and result.policy_id == first.id


def test_throttle_skips_a_requester_surveyed_within_the_window() -> None:
    p = policy(throttle_days=30)
    assert decide([p], ticket(), last=T0 - timedelta(days=29)) == Skip.THROTTLED
    assert isinstance(decide([p], ticket(), last=T0 - timedelta(days=30)), Schedule)
    assert not throttled(T0, T0, 0)


def test_sample_rate_zero_skips_and_one_keeps() -> None:
    assert decide([policy(sample_rate=0.0)], ticket()) == Skip.NOT_SAMPLED
    assert isinstance(decide([policy(sample_rate=1.0)], ticket()), Schedule)


@given(st.uuids(), st.floats(min_value=0.0, max_value=1.0))
def test_sampling_is_a_pure_function_of_the_ticket_id(ticket_id: uuid.UUID, rate: float) -> None:
    assert sampled(ticket_id, rate) == sampled(uuid.UUID(str(ticket_id)), rate)
    assert 0.0 <= sample_point(ticket_id) < 1.0


def test_sample_rate_keeps_roughly_that_share_of_tickets() -> None:
    ids = [uuid.UUID(int=i * 7919 + 1) for i in range(4000)]
    share = sum(sampled(i, 0.25) for i in ids) / len(ids)
    assert 0.22 < share < 0.28


def test_replayed_event_whose_link_would_have_expired_is_not_scheduled() -> None:
    assert decide([policy()], ticket(), now=T0 + timedelta(days=8)) == Skip.STALE


def test_reminder_not_before_sending() -> None:
    result = decide([policy(remind_before=timedelta(days=7))], ticket())
    assert isinstance(result, Schedule) and result.remind_at is None


def test_comment_threshold_must_lie_on_the_scale() -> None:
    with pytest.raises(ValidationError):
        Question(kind=SurveyKind.CSAT, comment_required_at_or_below=6)
    assert (
        Question(kind=SurveyKind.NPS, comment_required_at_or_below=0).comment_required_at_or_below
        == 0
    )
