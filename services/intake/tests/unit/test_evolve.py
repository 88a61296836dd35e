"""evolve / fold: every ticket event has a rule, streams are checked, versions count."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import pytest

from helpdesk_events.envelope import EVENT_TYPES
from helpdesk_events.tickets import (
    TICKET_EVENTS,
    Status,
    StatusChanged,
    TicketReopened,
    TicketType,
)
from helpdesk_intake.domain import InvalidStream, evolve, fold
from helpdesk_intake.state import _apply


def test_every_ticket_event_type_is_known_to_evolve():
    registered = {t for t in EVENT_TYPES.values() if t.TYPE.startswith("helpdesk.ticket.")}
    assert registered == set(TICKET_EVENTS)
    assert len(TICKET_EVENTS) == 15
    for event_type in TICKET_EVENTS:
        assert _apply.dispatch(event_type) is not _apply.dispatch(object), event_type


def test_every_ticket_event_is_on_the_tickets_topic_and_typed_v1():
    for event_type in TICKET_EVENTS:
        assert event_type.TOPIC == "helpdesk.tickets"
        assert event_type.TYPE.startswith("helpdesk.ticket.") and event_type.TYPE.endswith(".v1")


def test_the_first_event_must_be_the_creation(desk):
    desk.bring_to(Status.OPEN)
    with pytest.raises(InvalidStream):
        evolve(None, desk.events[1])
    with pytest.raises(InvalidStream):
        evolve(desk.state, desk.events[0])


def test_an_event_of_another_ticket_is_refused(desk):
    desk.create()
    foreign = TicketReopened(
        ticket_id=uuid4(), occurred_at=desk.now, reason="x", by=desk.requester
    )
    with pytest.raises(InvalidStream):
        evolve(desk.state, foreign)


def test_a_status_change_from_the_wrong_status_is_refused(desk):
    desk.create()
    wrong = StatusChanged(
        ticket_id=desk.ticket_id,
        occurred_at=desk.now,
        from_status=Status.PENDING,
        to_status=Status.OPEN,
        by=desk.agent,
    )
    with pytest.raises(InvalidStream):
        evolve(desk.state, wrong)


def test_something_that_is_no_ticket_event_is_refused(desk):
    desk.create()
    with pytest.raises(TypeError):
        evolve(desk.state, object())  # type: ignore[arg-type]


def test_version_counts_events_and_updated_at_follows_the_last(desk):
    desk.create()
    desk.later(timedelta(minutes=5))
    desk.comment(desk.agent)
    assert desk.state.version == 3 == len(desk.events)
    assert desk.state.updated_at == desk.now


def test_fold_of_an_empty_stream_is_none():
    assert fold([]) is None


def test_a_full_lifecycle_survives_a_json_round_trip(desk):
    desk.create(type=TicketType.CHANGE, tags=["a"], custom_fields={"x": 1.5, "y": "z"})
    desk.assign(agent=None)
    desk.comment(desk.agent)
    desk.move(Status.PENDING)
    desk.comment(desk.requester)
    desk.resolve()
    decoded = [type(e).model_validate_json(e.model_dump_json()) for e in desk.events]
    assert decoded == desk.events
    assert fold(decoded) == desk.state
