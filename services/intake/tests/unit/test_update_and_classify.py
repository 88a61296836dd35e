"""Field updates, priority changes, categorization and change outcomes."""

from __future__ import annotations

import pytest

from helpdesk_events.tickets import (
    Channel,
    Impact,
    Priority,
    PriorityChanged,
    Requester,
    Status,
    TicketCategorized,
    TicketType,
    TicketUpdated,
    Urgency,
)
from helpdesk_intake.domain import (
    Categorize,
    ChangePriority,
    InvalidCommand,
    RecordChangeOutcome,
    UpdateTicket,
)


def update(desk, **changes):
    return desk.run(UpdateTicket(ticket_id=desk.ticket_id, by=desk.agent, **changes))


def test_an_update_records_each_changed_field_with_before_and_after(desk):
    desk.create()
    (updated,) = update(
        desk,
        subject="VPN drops hourly",
        channel=Channel.EMAIL,
        type=TicketType.PROBLEM,
        affected_service="vpn",
        language="en",
    )
    assert isinstance(updated, TicketUpdated)
    changes = {c.field: (c.before, c.after) for c in updated.changes}
    assert changes == {
        "subject": ("VPN drops every few minutes", "VPN drops hourly"),
        "channel": (Channel.PORTAL, Channel.EMAIL),
        "type": (TicketType.INCIDENT, TicketType.PROBLEM),
        "affected_service": (None, "vpn"),
        "language": (None, "en"),
    }
    state = desk.state
    assert state.subject == "VPN drops hourly" and state.type is TicketType.PROBLEM
    assert state.affected_service == "vpn" and state.language == "en"


def test_an_update_that_changes_nothing_emits_nothing(desk):
    state = desk.create()
    assert update(desk, subject=state.subject, channel=state.channel) == []
    assert update(desk) == []


def test_enum_values_given_as_text_are_no_change(desk):
    desk.create(channel=Channel.EMAIL)
    assert update(desk, channel="email", type="incident") == []


def test_a_blank_category_is_refused(desk):
    desk.create()
    with pytest.raises(InvalidCommand) as refused:
        desk.run(Categorize(ticket_id=desk.ticket_id, category="  ", by=desk.agent))
    assert refused.value.field == "category"


def test_none_clears_an_optional_field(desk):
    desk.create(affected_service="vpn")
    update(desk, affected_service=None)
    assert desk.state.affected_service is None


def test_custom_fields_merge_and_none_removes_a_key(desk):
    desk.create(custom_fields={"asset": "LT-1", "floor": 3})
    update(desk, custom_fields={"floor": None, "vip": True})
    assert desk.state.custom_fields == {"asset": "LT-1", "vip": True}


def test_a_custom_field_changing_from_1_to_true_is_a_change(desk):
    desk.create(custom_fields={"flag": 1})
    assert len(update(desk, custom_fields={"flag": True})) == 1
    assert desk.state.custom_fields["flag"] is True


def test_tags_are_replaced_as_a_whole(desk):
    desk.create(tags=["vpn", "remote"])
    update(desk, tags=["Network"])
    assert desk.state.tags == ("network",)


def test_the_requester_can_be_corrected(desk):
    desk.create()
    bob = Requester(id="req-2", email="bob@example.com", name="Bob")
    update(desk, requester=bob)
    assert desk.state.requester == bob


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"subject": ""}, "subject"),
        ({"subject": "s" * 201}, "subject"),
        ({"language": "??"}, "language"),
        ({"tags": [f"t{i}" for i in range(21)]}, "tags"),
        ({"custom_fields": {f"k{i}": i for i in range(51)}}, "custom_fields"),
    ],
)
def test_an_invalid_update_names_the_field(desk, changes, field):
    desk.create()
    with pytest.raises(InvalidCommand) as refused:
        update(desk, **changes)
    assert refused.value.field == field


def test_a_resolved_ticket_can_still_be_corrected(desk):
    desk.bring_to(Status.RESOLVED)
    update(desk, subject="VPN certificate expired")
    assert desk.state.subject == "VPN certificate expired"


def test_an_explicit_priority_change(desk):
    desk.create(impact=Impact.LOW, urgency=Urgency.LOW)
    (changed,) = desk.run(
        ChangePriority(ticket_id=desk.ticket_id, by=desk.agent, priority=Priority.P1, reason="VIP")
    )
    assert isinstance(changed, PriorityChanged)
    assert (changed.from_priority, changed.to_priority) == (Priority.P4, Priority.P1)
    assert desk.state.priority is Priority.P1


def test_reassessing_urgency_recomputes_the_priority_from_the_matrix(desk):
    desk.create(impact=Impact.HIGH, urgency=Urgency.LOW)
    desk.run(ChangePriority(ticket_id=desk.ticket_id, by=desk.agent, urgency=Urgency.HIGH))
    assert desk.state.priority is Priority.P1
    assert (desk.state.impact, desk.state.urgency) == (Impact.HIGH, Urgency.HIGH)


def test_a_priority_change_needs_something_to_change(desk):
    desk.create()
    with pytest.raises(InvalidCommand):
        desk.run(ChangePriority(ticket_id=desk.ticket_id, by=desk.agent))
    assert desk.run(
        ChangePriority(ticket_id=desk.ticket_id, by=desk.agent, priority=Priority.P3)
    ) == []


def test_categorizing_records_the_previous_category(desk):
    desk.create(category="network")
    (categorized,) = desk.run(
        Categorize(ticket_id=desk.ticket_id, category="network/vpn", by=desk.agent)
    )
    assert isinstance(categorized, TicketCategorized)
    assert (categorized.from_category, categorized.to_category) == ("network", "network/vpn")
    assert desk.state.category == "network/vpn"
    again = Categorize(ticket_id=desk.ticket_id, category="network/vpn", by=desk.agent)
    assert desk.run(again) == []


def test_a_change_ticket_records_its_implementation_outcome(desk):
    desk.create(type=TicketType.CHANGE)
    desk.run(RecordChangeOutcome(ticket_id=desk.ticket_id, success=False, by=desk.agent))
    desk.run(
        RecordChangeOutcome(ticket_id=desk.ticket_id, success=True, by=desk.agent, notes="retry")
    )
    assert desk.state.change_success is True and desk.state.change_attempts == 2


def test_only_change_tickets_record_an_outcome(desk):
    desk.create(type=TicketType.INCIDENT)
    with pytest.raises(InvalidCommand) as refused:
        desk.run(RecordChangeOutcome(ticket_id=desk.ticket_id, success=True, by=desk.agent))
    assert refused.value.field == "type"
