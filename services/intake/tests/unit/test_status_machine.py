"""The status machine: legal moves only, refusals list the allowed moves."""

from __future__ import annotations

from uuid import uuid4

import pytest

from helpdesk_events.tickets import Status, StatusChanged
from helpdesk_intake.domain import (
    TRANSITIONS,
    AddComment,
    AssignTicket,
    ChangePriority,
    CloseTicket,
    IllegalTransition,
    InvalidCommand,
    LogWork,
    ReopenTicket,
    ResolveTicket,
    TicketAlreadyClosed,
    allowed_moves,
    is_legal_move,
)

S = Status
WORK = [S.NEW, S.OPEN, S.PENDING, S.ON_HOLD]


def test_the_documented_table():
    assert {k: set(v) for k, v in TRANSITIONS.items()} == {
        S.NEW: {S.OPEN, S.PENDING, S.ON_HOLD, S.RESOLVED},
        S.OPEN: {S.PENDING, S.ON_HOLD, S.RESOLVED},
        S.PENDING: {S.OPEN, S.ON_HOLD, S.RESOLVED},
        S.ON_HOLD: {S.OPEN, S.PENDING, S.RESOLVED},
        S.RESOLVED: {S.OPEN, S.CLOSED},
        S.CLOSED: set(),
    }


def test_nothing_moves_back_to_new_and_closed_is_terminal():
    assert all(S.NEW not in moves for moves in TRANSITIONS.values())
    assert allowed_moves(S.CLOSED) == []


def test_allowed_moves_are_listed_in_lifecycle_order():
    assert allowed_moves(S.NEW) == [S.OPEN, S.PENDING, S.ON_HOLD, S.RESOLVED]


def test_only_a_merge_closes_an_unresolved_ticket():
    assert not is_legal_move(S.OPEN, S.CLOSED)
    assert is_legal_move(S.OPEN, S.CLOSED, merge=True)
    assert not is_legal_move(S.CLOSED, S.CLOSED, merge=True)


@pytest.mark.parametrize("start", WORK)
@pytest.mark.parametrize("to", [S.NEW, S.OPEN, S.PENDING, S.ON_HOLD])
def test_change_status_between_working_statuses_follows_the_table(desk, start, to):
    desk.bring_to(start)
    if to is start:
        assert desk.move(to) == []
    elif to in TRANSITIONS[start]:
        (moved,) = desk.move(to)
        assert isinstance(moved, StatusChanged)
        assert (moved.from_status, moved.to_status) == (start, to)
        assert desk.state.status is to
        assert desk.state.status_changed_at == desk.now
    else:
        with pytest.raises(IllegalTransition) as refused:
            desk.move(to)
        assert refused.value.current is start
        assert refused.value.requested is to
        assert refused.value.allowed == allowed_moves(start)


@pytest.mark.parametrize("start", [S.NEW, S.OPEN, S.PENDING, S.ON_HOLD])
def test_resolving_and_closing_need_their_own_commands(desk, start):
    desk.bring_to(start)
    with pytest.raises(InvalidCommand):
        desk.move(S.RESOLVED)
    with pytest.raises(IllegalTransition) as refused:
        desk.move(S.CLOSED)
    assert S.CLOSED not in refused.value.allowed


def test_change_status_cannot_reopen_or_close_a_resolved_ticket(desk):
    desk.bring_to(S.RESOLVED)
    with pytest.raises(InvalidCommand):
        desk.move(S.OPEN)
    with pytest.raises(InvalidCommand):
        desk.move(S.CLOSED)
    with pytest.raises(IllegalTransition) as refused:
        desk.move(S.PENDING)
    assert refused.value.allowed == [S.OPEN, S.CLOSED]


@pytest.mark.parametrize("start", WORK)
def test_close_from_a_working_status_is_illegal(desk, start):
    desk.bring_to(start)
    with pytest.raises(IllegalTransition) as refused:
        desk.run(CloseTicket(ticket_id=desk.ticket_id, by=desk.agent))
    assert refused.value.requested is S.CLOSED
    assert refused.value.allowed == allowed_moves(start)


def test_resolving_twice_is_illegal(desk):
    desk.bring_to(S.RESOLVED)
    with pytest.raises(IllegalTransition) as refused:
        desk.resolve()
    assert refused.value.allowed == [S.OPEN, S.CLOSED]


def test_a_closed_ticket_refuses_every_command(desk):
    desk.bring_to(S.CLOSED)
    tid = desk.ticket_id
    commands = [
        ChangePriority(ticket_id=tid, by=desk.agent, priority="P1"),
        AddComment(ticket_id=tid, comment_id=uuid4(), author=desk.requester, body="still broken"),
        AssignTicket(ticket_id=tid, team="t", by=desk.agent, reason="r"),
        LogWork(ticket_id=tid, agent="a", seconds=60, kind="research", by=desk.agent),
        ResolveTicket(ticket_id=tid, resolution_code="fixed", by=desk.agent),
        ReopenTicket(ticket_id=tid, reason="again", by=desk.requester),
        CloseTicket(ticket_id=tid, by=desk.agent),
    ]
    for command in commands:
        with pytest.raises(TicketAlreadyClosed) as refused:
            desk.decide(command)
        assert "follow-up" in str(refused.value)
        assert f"follow_up_of={tid}" in str(refused.value)


def test_a_ticket_can_be_resolved_straight_from_new(desk):
    desk.create()
    events = desk.resolve()
    assert [type(e).__name__ for e in events] == ["TicketResolved", "StatusChanged"]
    assert desk.state.status is S.RESOLVED
