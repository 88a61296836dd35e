"""Comments (replies, notes, automatic status moves) and logged work."""

from __future__ import annotations

from datetime import timedelta

import pytest

from helpdesk_events.tickets import CommentAdded, Status, StatusChanged, WorkKind
from helpdesk_intake.domain import InvalidCommand, LogWork


def log(desk, seconds, kind, agent="agent-1"):
    return desk.run(
        LogWork(ticket_id=desk.ticket_id, agent=agent, seconds=seconds, kind=kind, by=desk.agent)
    )


def test_an_agent_reply_on_a_new_ticket_opens_it_and_is_the_first_response(desk):
    desk.create()
    desk.later(timedelta(minutes=12))
    comment, opened = desk.comment(desk.agent)
    assert isinstance(comment, CommentAdded) and comment.public
    assert isinstance(opened, StatusChanged)
    assert (opened.from_status, opened.to_status) == (Status.NEW, Status.OPEN)
    assert desk.state.first_response_at == desk.now
    assert desk.state.public_agent_reply_count == 1


def test_the_first_response_time_is_not_overwritten_by_later_replies(desk):
    desk.create()
    desk.comment(desk.agent)
    first = desk.state.first_response_at
    desk.later(timedelta(hours=1))
    desk.comment(desk.other_agent)
    assert desk.state.first_response_at == first
    assert desk.state.public_agent_reply_count == 2


def test_a_supervisor_reply_counts_as_an_agent_reply(desk):
    desk.create()
    desk.comment(desk.supervisor)
    assert desk.state.public_agent_reply_count == 1
    assert desk.state.status is Status.OPEN


def test_an_internal_note_is_no_response_and_moves_nothing(desk):
    desk.create()
    (note,) = desk.comment(desk.agent, public=False)
    assert not note.public
    assert desk.state.first_response_at is None
    assert desk.state.status is Status.NEW
    assert desk.state.comment_count == 1 and desk.state.public_agent_reply_count == 0


def test_a_requester_reply_on_a_pending_ticket_moves_it_back_to_open(desk):
    desk.bring_to(Status.PENDING)
    comment, reopened = desk.comment(desk.requester, body="Here is the log")
    assert isinstance(comment, CommentAdded)
    assert (reopened.from_status, reopened.to_status) == (Status.PENDING, Status.OPEN)
    assert reopened.by == desk.requester
    assert desk.state.public_agent_reply_count == 0


@pytest.mark.parametrize("status", [Status.NEW, Status.OPEN, Status.ON_HOLD, Status.RESOLVED])
def test_a_requester_reply_elsewhere_leaves_the_status(desk, status):
    desk.bring_to(status)
    assert len(desk.comment(desk.requester)) == 1
    assert desk.state.status is status


def test_an_agent_reply_on_a_pending_ticket_keeps_it_pending(desk):
    desk.bring_to(Status.PENDING)
    assert len(desk.comment(desk.agent)) == 1
    assert desk.state.status is Status.PENDING


def test_requesters_cannot_write_internal_notes(desk):
    desk.create()
    with pytest.raises(InvalidCommand) as refused:
        desk.comment(desk.requester, public=False)
    assert refused.value.field == "public"


def test_an_empty_or_oversize_comment_is_refused(desk):
    desk.create()
    with pytest.raises(InvalidCommand) as refused:
        desk.comment(desk.agent, body="")
    assert refused.value.field == "body"
    with pytest.raises(InvalidCommand):
        desk.comment(desk.agent, body="x" * 20_001)


def test_logged_work_adds_up_by_kind(desk):
    desk.create()
    log(desk, 300, WorkKind.TALK)
    log(desk, 600, WorkKind.RESEARCH)
    log(desk, 120, WorkKind.AFTER_WORK)
    log(desk, 60, WorkKind.TALK)
    assert desk.state.work_seconds == {
        WorkKind.TALK: 360,
        WorkKind.RESEARCH: 600,
        WorkKind.AFTER_WORK: 120,
    }
    assert desk.state.handle_seconds == 1080


def test_a_logged_call_and_a_public_reply_are_contacts(desk):
    desk.create()
    log(desk, 300, WorkKind.TALK)
    log(desk, 300, WorkKind.RESEARCH)
    desk.comment(desk.agent)
    desk.comment(desk.agent, public=False)
    assert desk.state.contact_count == 2


@pytest.mark.parametrize("seconds", [0, -1, 24 * 3600 + 1])
def test_work_must_be_positive_and_at_most_a_day_per_entry(desk, seconds):
    desk.create()
    with pytest.raises(InvalidCommand) as refused:
        log(desk, seconds, WorkKind.TALK)
    assert refused.value.field == "seconds"


def test_after_work_may_be_logged_on_a_resolved_ticket(desk):
    desk.bring_to(Status.RESOLVED)
    log(desk, 90, WorkKind.AFTER_WORK)
    assert desk.state.work_seconds[WorkKind.AFTER_WORK] == 90
