"""The routing, sla and survey event classes: typed, frozen, self-describing."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any

import pytest
from helpdesk_events import routing, sla, surveys
from helpdesk_events.envelope import EVENT_TYPES, Event
from pydantic import ValidationError

from .samples import AT, SAMPLE_EVENTS, SURVEY, TICKET

OUR_MODULES = (routing, sla, surveys)
OUR_CLASSES = sorted(
    (cls for cls in EVENT_TYPES.values() if cls.__module__ in {m.__name__ for m in OUR_MODULES}),
    key=lambda cls: cls.TYPE,
)


def _described(prop: dict[str, Any], defs: dict[str, Any]) -> bool:
    refs = [prop.get("$ref"), *(option.get("$ref") for option in prop.get("anyOf", ()))]
    return "description" in prop or any(
        ref is not None and "description" in defs[ref.split("/")[-1]] for ref in refs
    )


@pytest.mark.parametrize("cls", OUR_CLASSES, ids=lambda cls: cls.TYPE)
def test_event_type_follows_the_naming_scheme(cls: type[Event]) -> None:
    area = {"helpdesk.routing": "routing", "helpdesk.sla": "sla", "helpdesk.surveys": "survey"}
    assert cls.TYPE.startswith(f"helpdesk.{area[cls.TOPIC]}.")
    assert cls.TYPE.endswith(".v1")


@pytest.mark.parametrize("cls", OUR_CLASSES, ids=lambda cls: cls.TYPE)
def test_every_field_is_described(cls: type[Event]) -> None:
    schema = cls.model_json_schema()
    defs = schema.get("$defs", {})
    for model in (schema, *defs.values()):
        for name, prop in model.get("properties", {}).items():
            assert _described(prop, defs), f"{model['title']}.{name} has no description"


@pytest.mark.parametrize("cls", OUR_CLASSES, ids=lambda cls: cls.TYPE)
def test_subject_field_exists_and_ticket_subjects_carry_the_ticket_id(cls: type[Event]) -> None:
    assert cls.SUBJECT in cls.model_fields  # type: ignore[attr-defined]
    if cls.SUBJECT == "ticket_id":  # type: ignore[attr-defined]
        assert cls.model_fields["ticket_id"].annotation is uuid.UUID


@pytest.mark.parametrize("event", SAMPLE_EVENTS, ids=lambda event: type(event).TYPE)
def test_events_are_frozen_and_hashable(event: Event) -> None:
    with pytest.raises(ValidationError, match="frozen"):
        setattr(event, next(iter(type(event).model_fields)), None)
    hash(event)


def test_a_queued_routing_decision_has_no_agent() -> None:
    with pytest.raises(ValidationError, match="queued"):
        routing.RoutingDecided(
            ticket_id=TICKET,
            tier=1,
            team="t",
            agent="a",
            strategy="least_loaded",
            reason="r",
            queued=True,
        )


@pytest.mark.parametrize("tier", [0, 4])
def test_tiers_are_one_to_three(tier: int) -> None:
    with pytest.raises(ValidationError):
        routing.EscalationDecided(
            ticket_id=TICKET, from_tier=1, to_tier=tier, reason="r", trigger="rule"
        )


@pytest.mark.parametrize(
    ("start", "end"),
    [("18:00", "09:00"), ("09:00", "09:00"), ("9:00", "10:00"), ("09:00", "24:01")],
)
def test_working_hours_must_be_a_forward_span_of_clock_times(start: str, end: str) -> None:
    with pytest.raises(ValidationError):
        sla.WorkingHours(weekday=0, start=start, end=end)


def test_working_hours_may_run_to_midnight() -> None:
    assert sla.WorkingHours(weekday=6, start="20:00", end="24:00").end == "24:00"


@pytest.mark.parametrize(("score", "low", "high"), [(6, 1, 5), (0, 1, 5), (3, 5, 5)])
def test_survey_scores_lie_on_a_non_empty_scale(score: int, low: int, high: int) -> None:
    with pytest.raises(ValidationError):
        surveys.SurveyAnswer(kind="csat", score=score, scale_min=low, scale_max=high)


def test_a_survey_asks_at_least_one_question() -> None:
    with pytest.raises(ValidationError):
        surveys.SurveySent(
            survey_id=SURVEY,
            kinds=(),
            requester_id="u",
            link="https://x.example/s/1",
            expires_at=AT,
        )


def test_agent_surveys_need_no_ticket() -> None:
    sent = surveys.SurveySent(
        survey_id=SURVEY,
        kinds=("agent_satisfaction",),
        requester_id="agent-7",
        link="https://x.example/s/1",
        expires_at=AT,
    )
    assert sent.ticket_id is None


def test_naive_instants_are_refused() -> None:
    with pytest.raises(ValidationError, match="timezone"):
        sla.ClockResumed(
            ticket_id=TICKET, target="resolution", resumed_at=datetime(2025, 1, 1), due_at=AT
        )


def test_hourly_cost_is_finite_and_not_negative() -> None:
    for cost in (float("inf"), float("nan"), -1.0):
        with pytest.raises(ValidationError):
            routing.AgentStatusChanged(agent_id="a", status="online", hourly_cost=cost)


def test_policy_defaults_pause_on_pending_and_on_hold() -> None:
    policy = sla.PolicyDefined(
        policy_id="p",
        name="p",
        order=0,
        conditions=sla.PolicyConditions(),
        targets=sla.PolicyTargets(resolution=3600),
        calendar_id="c",
    )
    assert policy.pause_statuses == ("pending", "on_hold")
    assert policy.conditions.priorities == ()
    assert policy.active


def test_policy_targets_are_positive() -> None:
    with pytest.raises(ValidationError):
        sla.PolicyTargets(first_response=0)


def test_instants_are_kept_in_utc() -> None:
    started = sla.ClockStarted(
        ticket_id=TICKET,
        target="first_response",
        policy="p",
        calendar="c",
        started_at=datetime.fromisoformat("2025-03-04T10:30:00+01:00"),
        due_at=AT,
    )
    assert started.started_at == AT
    assert started.started_at.tzinfo is timezone.utc
