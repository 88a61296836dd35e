"""Merging a duplicate into another ticket."""

from __future__ import annotations

from dataclasses import replace
from uuid import uuid4

import pytest

from helpdesk_events.tickets import (
    CloseReason,
    Status,
    StatusChanged,
    TicketClosed,
    TicketMerged,
)
from helpdesk_intake.domain import (
    InvalidCommand,
    MergeTicket,
    TicketAlreadyClosed,
    TicketNotFound,
    decide_merge,
    evolve,
    fold,
)


@pytest.fixture
def pair(desk):
    """Two tickets: the desk's (source, open) and a target (new)."""
    desk.bring_to(Status.OPEN)
    target = replace(desk, ticket_id=uuid4(), state=None, events=[])
    target.create(number="HD-1043", subject="VPN down for the whole floor")
    return desk, target


def merge(source, target, by=None):
    command = MergeTicket(
        ticket_id=source.ticket_id, target_ticket_id=target.ticket_id, by=by or source.agent
    )
    return decide_merge(source.state, target.state, command, source.now)


def apply(desk, events):
    for event in events:
        desk.state = evolve(desk.state, event)
        desk.events.append(event)


def test_merge_closes_the_source_and_links_both(pair):
    source, target = pair
    source_history = list(source.events)
    on_source, on_target = merge(source, target)
    merged, closed, moved = on_source
    assert isinstance(merged, TicketMerged) and merged.ticket_id == source.ticket_id
    assert isinstance(closed, TicketClosed) and closed.reason is CloseReason.MERGED
    assert isinstance(moved, StatusChanged)
    assert (moved.from_status, moved.to_status) == (Status.OPEN, Status.CLOSED)
    (linked,) = on_target
    assert isinstance(linked, TicketMerged) and linked.ticket_id == target.ticket_id
    assert (linked.source_ticket_id, linked.target_ticket_id) == (
        source.ticket_id,
        target.ticket_id,
    )
    apply(source, on_source)
    apply(target, on_target)
    assert source.state.status is Status.CLOSED
    assert source.state.merged_into == target.ticket_id
    assert source.state.close_reason is CloseReason.MERGED
    assert target.state.merged_from == (source.ticket_id,)
    assert target.state.status is Status.NEW  # the target's status is untouched
    # the source's history is kept whole: only events were appended
    assert source.events[: len(source_history)] == source_history
    assert fold(source.events) == source.state


def test_merge_works_from_any_status_but_closed(pair):
    source, target = pair
    source.resolve()
    on_source, _ = merge(source, target)
    assert on_source[-1].from_status is Status.RESOLVED


def test_merging_into_itself_is_refused(desk):
    desk.create()
    command = MergeTicket(ticket_id=desk.ticket_id, target_ticket_id=desk.ticket_id, by=desk.agent)
    with pytest.raises(InvalidCommand):
        decide_merge(desk.state, desk.state, command, desk.now)


def test_a_closed_source_or_target_refuses_the_merge(pair):
    source, target = pair
    on_source, on_target = merge(source, target)
    apply(source, on_source)
    apply(target, on_target)
    with pytest.raises(TicketAlreadyClosed):
        merge(source, target)
    with pytest.raises(TicketAlreadyClosed) as refused:
        merge(target, source)
    assert refused.value.ticket_id == source.ticket_id


def test_a_missing_side_is_not_found(pair):
    source, target = pair
    command = MergeTicket(ticket_id=source.ticket_id, target_ticket_id=uuid4(), by=source.agent)
    with pytest.raises(TicketNotFound) as missing:
        decide_merge(source.state, None, command, source.now)
    assert missing.value.ticket_id == command.target_ticket_id


def test_recording_the_same_merge_on_the_target_twice_is_a_no_op(pair):
    source, target = pair
    _, on_target = merge(source, target)
    apply(target, on_target)
    command = MergeTicket(
        ticket_id=source.ticket_id, target_ticket_id=target.ticket_id, by=source.agent
    )
    assert target.decide(command) == []


def test_several_duplicates_merge_into_one_target(pair):
    source, target = pair
    _, on_target = merge(source, target)
    apply(target, on_target)
    third = uuid4()
    target.run(MergeTicket(ticket_id=third, target_ticket_id=target.ticket_id, by=target.agent))
    assert target.state.merged_from == (source.ticket_id, third)
