"""Resolve, reopen (within the window) and close (manual and automatic)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from helpdesk_events.tickets import CloseReason, Status, TicketClosed, TicketReopened
from helpdesk_intake.domain import (
    CloseTicket,
    IllegalTransition,
    InvalidCommand,
    NotAllowedInStatus,
    Policy,
    ReopenTicket,
    ReopenWindowExpired,
    TicketAlreadyClosed,
    auto_close_due,
)


def reopen(desk, reason="still broken"):
    return desk.run(ReopenTicket(ticket_id=desk.ticket_id, reason=reason, by=desk.requester))


def close(desk, by, reason=CloseReason.MANUAL):
    return desk.run(CloseTicket(ticket_id=desk.ticket_id, by=by, reason=reason))


def test_resolving_records_time_code_resolver_and_count(desk):
    desk.bring_to(Status.OPEN)
    desk.later(timedelta(hours=3))
    resolved, moved = desk.resolve("workaround")
    assert resolved.resolution_code == "workaround"
    assert (moved.from_status, moved.to_status) == (Status.OPEN, Status.RESOLVED)
    state = desk.state
    assert state.resolved_at == desk.now
    assert state.resolution_code == "workaround"
    assert state.resolved_by == desk.agent
    assert state.resolution_count == 1 and state.reopen_count == 0


def test_a_resolution_code_is_a_lower_case_slug(desk):
    desk.create()
    with pytest.raises(InvalidCommand) as refused:
        desk.resolve("Fixed it!")
    assert refused.value.field == "resolution_code"


def test_reopening_within_the_window_opens_the_ticket_again(desk):
    desk.bring_to(Status.RESOLVED)
    desk.later(timedelta(days=7))
    reopened, moved = reopen(desk)
    assert isinstance(reopened, TicketReopened) and reopened.reason == "still broken"
    assert (moved.from_status, moved.to_status) == (Status.RESOLVED, Status.OPEN)
    assert desk.state.reopen_count == 1


def test_reopening_after_the_window_is_refused(desk):
    desk.bring_to(Status.RESOLVED)
    resolved_at = desk.state.resolved_at
    desk.later(timedelta(days=7, seconds=1))
    with pytest.raises(ReopenWindowExpired) as refused:
        reopen(desk)
    assert refused.value.deadline == resolved_at + timedelta(days=7)
    assert "follow_up_of" in str(refused.value)


def test_the_reopen_window_is_configurable(desk):
    desk.policy = Policy(reopen_window=timedelta(days=1))
    desk.bring_to(Status.RESOLVED)
    desk.later(timedelta(days=2))
    with pytest.raises(ReopenWindowExpired):
        reopen(desk)
    desk.policy = Policy(reopen_window=timedelta(days=30))
    reopen(desk)


def test_the_window_counts_from_the_latest_resolution(desk):
    desk.bring_to(Status.RESOLVED)
    reopen(desk)
    desk.later(timedelta(days=10))
    desk.resolve()
    desk.later(timedelta(days=6))
    reopen(desk)
    assert desk.state.reopen_count == 2 and desk.state.resolution_count == 2


def test_only_a_resolved_ticket_can_be_reopened(desk):
    desk.bring_to(Status.OPEN)
    with pytest.raises(NotAllowedInStatus) as refused:
        reopen(desk)
    assert refused.value.status is Status.OPEN


def test_a_closed_ticket_cannot_be_reopened_and_asks_for_a_follow_up(desk):
    desk.bring_to(Status.CLOSED)
    with pytest.raises(TicketAlreadyClosed) as refused:
        reopen(desk)
    assert refused.value.ticket_id == desk.ticket_id
    assert "follow-up ticket" in str(refused.value)


def test_a_manual_close_of_a_resolved_ticket(desk):
    desk.bring_to(Status.RESOLVED)
    closed, moved = close(desk, desk.requester)
    assert isinstance(closed, TicketClosed) and closed.reason is CloseReason.MANUAL
    assert (moved.from_status, moved.to_status) == (Status.RESOLVED, Status.CLOSED)
    assert desk.state.closed_at == desk.now
    assert desk.state.close_reason is CloseReason.MANUAL


def test_auto_close_is_due_after_the_delay_only_for_resolved_tickets(desk):
    desk.bring_to(Status.RESOLVED)
    resolved_at = desk.state.resolved_at
    assert not auto_close_due(desk.state, resolved_at + timedelta(days=3, seconds=-1))
    assert auto_close_due(desk.state, resolved_at + timedelta(days=3))
    assert auto_close_due(desk.state, resolved_at + timedelta(hours=2), timedelta(hours=1))
    assert not auto_close_due(None, resolved_at)
    reopen(desk)
    assert not auto_close_due(desk.state, resolved_at + timedelta(days=30))


def test_the_system_auto_closes_once_due(desk):
    desk.bring_to(Status.RESOLVED)
    desk.later(timedelta(days=3))
    closed, _ = close(desk, desk.system, CloseReason.AUTO_CLOSE)
    assert closed.reason is CloseReason.AUTO_CLOSE and closed.by == desk.system
    assert desk.state.status is Status.CLOSED


def test_auto_close_before_the_delay_is_refused(desk):
    desk.bring_to(Status.RESOLVED)
    desk.later(timedelta(days=2))
    with pytest.raises(InvalidCommand) as refused:
        close(desk, desk.system, CloseReason.AUTO_CLOSE)
    assert refused.value.field == "reason"


def test_the_auto_close_delay_is_configurable(desk):
    desk.policy = Policy(auto_close_delay=timedelta(hours=1))
    desk.bring_to(Status.RESOLVED)
    desk.later(timedelta(hours=1))
    close(desk, desk.system, CloseReason.AUTO_CLOSE)


def test_only_the_system_auto_closes(desk):
    desk.bring_to(Status.RESOLVED)
    desk.later(timedelta(days=5))
    with pytest.raises(InvalidCommand) as refused:
        close(desk, desk.agent, CloseReason.AUTO_CLOSE)
    assert refused.value.field == "by"


def test_auto_close_of_a_reopened_ticket_is_illegal(desk):
    desk.bring_to(Status.RESOLVED)
    reopen(desk)
    desk.later(timedelta(days=5))
    with pytest.raises(IllegalTransition):
        close(desk, desk.system, CloseReason.AUTO_CLOSE)


def test_close_with_reason_merged_needs_a_merge(desk):
    desk.bring_to(Status.RESOLVED)
    with pytest.raises(InvalidCommand):
        close(desk, desk.agent, CloseReason.MERGED)
