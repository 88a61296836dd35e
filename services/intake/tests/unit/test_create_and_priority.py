"""Creating tickets: priority matrix, normalisation, limits."""

from __future__ import annotations

from uuid import uuid4

import pytest

from helpdesk_events.tickets import (
    Channel,
    Impact,
    Priority,
    Status,
    TicketCreated,
    TicketType,
    Urgency,
)
from helpdesk_intake.domain import (
    ChangePriority,
    InvalidCommand,
    LogWork,
    TicketNotFound,
    decide,
    priority_for,
)

H, M, L = Impact.HIGH, Impact.MEDIUM, Impact.LOW
UH, UM, UL = Urgency.HIGH, Urgency.MEDIUM, Urgency.LOW


@pytest.mark.parametrize(
    ("impact", "urgency", "expected"),
    [
        (H, UH, Priority.P1),
        (H, UM, Priority.P2),
        (H, UL, Priority.P3),
        (M, UH, Priority.P2),
        (M, UM, Priority.P3),
        (M, UL, Priority.P4),
        (L, UH, Priority.P3),
        (L, UM, Priority.P4),
        (L, UL, Priority.P4),
    ],
)
def test_priority_follows_the_impact_urgency_matrix(desk, impact, urgency, expected):
    state = desk.create(impact=impact, urgency=urgency)
    assert priority_for(impact, urgency) is expected
    assert state.priority is expected
    assert (state.impact, state.urgency) == (impact, urgency)


def test_missing_impact_or_urgency_counts_as_medium(desk):
    assert priority_for(None, None) is Priority.P3
    assert priority_for(Impact.HIGH, None) is Priority.P2
    assert desk.create().priority is Priority.P3


def test_explicit_priority_wins_over_the_matrix(desk):
    state = desk.create(impact=Impact.LOW, urgency=Urgency.LOW, priority=Priority.P1)
    assert state.priority is Priority.P1


def test_new_ticket_starts_new_with_every_descriptive_field(desk):
    follow_up_of = uuid4()
    state = desk.create(
        channel=Channel.WALK_IN,
        type=TicketType.SERVICE_REQUEST,
        category="hardware/laptop",
        affected_service="laptops",
        language="de-CH",
        custom_fields={"asset": "LT-0042", "floor": 3, "vip": True},
        follow_up_of=follow_up_of,
    )
    assert state.status is Status.NEW
    assert state.version == 1
    assert state.number == "HD-1042"
    assert state.channel is Channel.WALK_IN
    assert state.type is TicketType.SERVICE_REQUEST
    assert state.category == "hardware/laptop"
    assert state.affected_service == "laptops"
    assert state.language == "de-CH"
    assert state.custom_fields == {"asset": "LT-0042", "floor": 3, "vip": True}
    assert state.requester.email == "ann@example.com"
    assert state.follow_up_of == follow_up_of
    assert state.created_at == state.updated_at == desk.now
    assert state.tier is None and state.team is None and state.agent is None


def test_tags_are_trimmed_lower_cased_and_deduplicated(desk):
    state = desk.create(tags=["VPN", " vpn ", "Remote", "", "remote"])
    assert state.tags == ("vpn", "remote")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"subject": "x" * 201}, "subject"),
        ({"subject": "   "}, "subject"),
        ({"description": "x" * 20_001}, "description"),
        ({"tags": [f"t{i}" for i in range(21)]}, "tags"),
        ({"tags": ["x" * 51]}, "tags.0"),
        ({"custom_fields": {f"k{i}": i for i in range(51)}}, "custom_fields"),
        ({"custom_fields": {"bad key": 1}}, "custom_fields.bad key.[key]"),
        ({"number": "1042"}, "number"),
        ({"language": "english!"}, "language"),
    ],
)
def test_oversize_or_malformed_fields_are_refused_naming_the_field(desk, overrides, field):
    with pytest.raises(InvalidCommand) as refused:
        desk.create(**overrides)
    assert refused.value.field == field
    assert desk.events == []


def test_limits_are_inclusive(desk):
    state = desk.create(
        subject="x" * 200,
        description="y" * 20_000,
        tags=[f"tag-{i:02d}" + "z" * 44 for i in range(20)],
        custom_fields={f"k{i}": i for i in range(50)},
    )
    assert len(state.subject) == 200 and len(state.tags) == 20


def test_the_same_ticket_cannot_be_created_twice(desk):
    desk.create()
    with pytest.raises(InvalidCommand) as refused:
        desk.create()
    assert refused.value.field == "ticket_id"


def test_a_ticket_cannot_follow_up_itself(desk):
    with pytest.raises(InvalidCommand):
        desk.create(follow_up_of=desk.ticket_id)


def test_commands_on_an_unknown_ticket_raise_not_found(desk):
    command = LogWork(ticket_id=desk.ticket_id, agent="a", seconds=5, kind="talk", by=desk.agent)
    with pytest.raises(TicketNotFound) as missing:
        decide(None, command, desk.now)
    assert missing.value.ticket_id == desk.ticket_id


def test_time_must_be_timezone_aware(desk):
    command = ChangePriority(ticket_id=desk.ticket_id, by=desk.agent)
    with pytest.raises(ValueError):
        decide(None, command, desk.now.replace(tzinfo=None))


def test_created_event_carries_the_number_and_who_logged_it(desk):
    desk.create(by=desk.agent, channel=Channel.PHONE)
    (created,) = desk.events
    assert isinstance(created, TicketCreated)
    assert created.number == "HD-1042"
    assert created.by == desk.agent
    assert created.occurred_at == desk.now
